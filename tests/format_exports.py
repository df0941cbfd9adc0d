"""Give the notebooks' exported cells (`#| export`) their line shape: at most 100 characters a line,
one statement a line. Only the lines that break the rule change; every other line stays as written.

    python tests/format_exports.py                   # fix the exported cells of nbs/**/*.ipynb
    python tests/format_exports.py --check           # list the lines that break the rule (exit 1)
    python tests/format_exports.py --root DIR        # the project at DIR (default: this one)
    python tests/format_exports.py --py FILE ...     # plain Python files too
    python tests/format_exports.py --verify-ast OLD  # xenc/*.py parse to the same ASTs as OLD/*.py

A line that breaks the rule gets the first of these fixes that works (for it and the lines it
makes):
- `a; b` -> one statement a line; `if c: a` (too long, or holding `;`) -> the block form;
- a too long trailing comment moves onto its own line(s) above its line; too long comment lines are
  wrapped; a parameter's comment (fastcore docments) stays on the parameter's line with less space
  before it, or goes on the line above it, or the signature's parameters go one level in;
- the line is broken inside its brackets: after a comma, before `if`/`else`/`for`/`and`/`or` or
  a binary operator, between or inside string literals (`f"..." f"..."`, never inside an escape or
  a `{field}`); the rest aligned as the project aligns (under the bracket's first item, or one
  level in after an opening bracket that ends the line);
- an expression with operators but no brackets of its own is put in parentheses, then broken;
- a long string outside brackets is cut into adjacent literals in parentheses (a docstring too: its
  value stays); a row inside a triple-quoted string ends in `\\` and goes on at column 0 (same
  value);
- else `ruff format` formats that statement (or a compound statement's header) alone.
A change is kept only when the cell's AST and its docments (what fastcore reads from parameters'
comments) are unchanged, so the package behaves and documents itself exactly as before; what
cannot be fixed that way is listed and left as it is.
"""
import argparse, ast, configparser, io, json, re, shutil, subprocess, sys, textwrap, tokenize
from pathlib import Path

WIDTH = 100  # the longest line allowed
STEP = 4  # one indentation level
MAX_STEPS = 3000  # fixes one cell may take
OPENERS, CLOSERS = "([{", ")]}"
KEYWORD_BREAKS = {"if", "else", "for", "and", "or"}
BINARY_OPS = {"+", "-", "*", "/", "//", "%", "@", "|", "&", "^", "<<", ">>", "**", "==", "!=",
              "<", ">", "<=", ">="}
T = tokenize
SKIP = {T.NL, T.NEWLINE, T.COMMENT, T.INDENT, T.DEDENT, T.ENDMARKER, T.ENCODING}
KEEP_COMMENT = re.compile(r"#\s*(noqa|type:|pragma|fmt:|ruff:|pyright:|mypy:)|#\|")
NOQA = re.compile(r"(#\s*noqa(?::\s*[A-Z]+[0-9]+(?:,\s*[A-Z]+[0-9]+)*)?)\s+(\S.*)")
EXPORT = re.compile(r"#\|\s*export")
STATEMENT_LISTS = ("body", "orelse", "finalbody")
KEEP_ONE_LINERS = False  # --keep-one-liners: `if c: raise X(...)` broken inside its brackets


def exported(cell) -> bool:
    "Whether a notebook cell is exported to the package (one of its lines starts with `#| export`)."
    if cell["cell_type"] != "code":
        return False
    return any(EXPORT.match(l) for l in "".join(cell["source"]).splitlines())


def problems(text: str) -> list[tuple[int, str]]:
    "(row, what) for each line over WIDTH characters and each ';' that joins statements."
    lines = enumerate(text.split("\n"), 1)
    found = [(i, f"{len(l)} characters") for i, l in lines if len(l) > WIDTH]
    toks = T.generate_tokens(io.StringIO(text).readline)
    semis = [t for t in toks if t.type == T.OP and t.string == ";"]
    found += [(t.start[0], "';' joins statements") for t in semis]
    return sorted(found)


def lead(line: str) -> int:
    "The indentation of a line."
    return len(line) - len(line.lstrip(" "))


class Cell:
    "A cell's source with its AST, its tokens and the brackets open around each token."

    def __init__(self, text: str):
        self.text, self.lines = text, text.split("\n")
        self.tree = ast.parse(text)
        self.toks = list(T.generate_tokens(io.StringIO(text).readline))
        self.inside, self.match, self.first, stack, start = [], {}, [], [], None
        for i, t in enumerate(self.toks):
            self.inside.append(tuple(stack))
            if t.type == T.OP and t.string in OPENERS:
                stack.append(i)
            elif t.type == T.OP and t.string in CLOSERS and stack:
                self.match[stack.pop()] = i
            if t.type not in SKIP and start is None:
                start = i
            self.first.append(start)
            if t.type == T.NEWLINE or (t.type == T.NL and not stack):
                start = None
        self.at = {t.start: i for i, t in enumerate(self.toks) if t.type not in SKIP}
        self.rows = {}
        for i, t in enumerate(self.toks):
            if t.type not in SKIP or t.type == T.COMMENT:
                self.rows.setdefault(t.start[0], []).append(i)

    def tok(self, node) -> int | None:
        "The index of the token where an AST node starts."
        line = self.lines[node.lineno - 1]
        col = len(line.encode()[:node.col_offset].decode(errors="replace"))
        return self.at.get((node.lineno, col))

    def prev(self, i: int) -> int | None:
        "The previous token that is code (not a comment, a line end or an indentation)."
        i -= 1
        while i >= 0 and self.toks[i].type in SKIP:
            i -= 1
        return i if i >= 0 else None

    def next(self, i: int) -> int | None:
        "The next token that is code."
        i += 1
        while i < len(self.toks) and self.toks[i].type in SKIP:
            i += 1
        return i if i < len(self.toks) else None

    def code_on(self, r: int) -> list[int]:
        "The code tokens that start on row r."
        return [i for i in self.rows.get(r, []) if self.toks[i].type != T.COMMENT]

    def comment_on(self, r: int) -> int | None:
        "The comment token on row r, if any."
        return next((i for i in self.rows.get(r, []) if self.toks[i].type == T.COMMENT), None)

    def string_over(self, r: int) -> int | None:
        "The string token that spans several rows, row r among them, if any."
        for i, t in enumerate(self.toks):
            if t.type == T.STRING and t.start[0] < t.end[0] and t.start[0] <= r <= t.end[0]:
                return i
        return None

    def in_string(self, r: int) -> bool:
        "Whether row r starts inside a string token."
        return any(t.type == T.STRING and t.start[0] < r <= t.end[0] for t in self.toks)

    def stmt_lists(self):
        "Every list of statements in the cell (bodies of modules, blocks, clauses, handlers)."
        for node in ast.walk(self.tree):
            for field in STATEMENT_LISTS:
                stmts = getattr(node, field, None)
                if isinstance(stmts, list) and stmts and isinstance(stmts[0], ast.stmt):
                    yield stmts

    def inline_blocks(self):
        "(colon token, first statement's token, statements) of each block on its header's row."
        for stmts in self.stmt_lists():
            j = self.tok(stmts[0])
            k = None if j is None else self.prev(j)
            if k is not None and self.toks[k].string == ":" and self.toks[k].type == T.OP:
                if self.toks[k].end[0] == self.toks[j].start[0]:
                    yield k, j, stmts

    def param_rows(self):
        "Each function and class with {row: parameter or field}, numbered as fastcore numbers them."
        for node in ast.walk(self.tree):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                a = node.args
                named = a.posonlyargs + a.args + [a.vararg] + a.kwonlyargs + [a.kwarg]
                rows = {x.lineno: x.arg for x in named if x is not None}
                if node.returns is not None:
                    rows[node.returns.lineno] = "return"
                yield node, rows
            elif isinstance(node, ast.ClassDef):
                fields = [x for x in node.body if isinstance(x, ast.AnnAssign)]
                yield node, {x.lineno: ast.unparse(x.target) for x in fields}

    def docments(self) -> list:
        "What fastcore's `docments` reads for each parameter: [(function, parameter, comment)]."
        notes = {t.start[0]: t.string[1:] for t in self.toks if t.type == T.COMMENT}
        out = []
        for node, rows in self.param_rows():
            top = min([node.lineno] + [d.lineno for d in node.decorator_list])
            for row, name in rows.items():
                out.append((node.name, name, docment(row, notes, rows, top)))
        return out


def docment(row: int, notes: dict, rows: dict, top: int) -> str | None:
    "fastcore's `_get_comment`: the comment on a parameter's row, else the comment rows just above."
    if row in notes:
        return notes[row].strip()
    above = []
    row -= 1
    while row >= top and row in notes and row not in rows:
        above.append(notes[row])
        row -= 1
    return textwrap.dedent("\n".join(reversed(above))) if above else None


def replace(c: Cell, first: int, last: int, new: list[str]) -> str:
    "The cell's text with rows first..last (from 1) replaced by `new`."
    return "\n".join(c.lines[:first - 1] + new + c.lines[last:])


def shifted(c: Cell, r: int, delta: int, least: int = 0) -> str:
    "Row r moved right by delta columns (left when negative), unless it starts inside a string."
    line = c.lines[r - 1]
    if not line.strip() or c.in_string(r):
        return line
    return " " * max(least, lead(line) + delta) + line.lstrip(" ")


# --- the fixes, each a generator of candidate texts, best first ---------------------------------

def block_form(c: Cell, r: int):
    "`if x: a` on row r -> `if x:` on row r and the block, indented, below it."
    for k, j, stmts in c.inline_blocks():
        if c.toks[k].end[0] != r:
            continue
        col = lead(c.lines[c.toks[c.first[k]].start[0] - 1]) + STEP
        delta = col - c.toks[j].start[1]
        last = max(s.end_lineno for s in stmts)
        line = c.lines[r - 1]
        rest = [shifted(c, row, delta, col) for row in range(r + 1, last + 1)]
        head = [line[:c.toks[k].end[1]], " " * col + line[c.toks[j].start[1]:]]
        yield replace(c, r, last, head + rest)


def split_statements(c: Cell, r: int):
    "`a; b` on row r -> `a` on row r and `b` below it, at the same indentation."
    line = c.lines[r - 1]
    for s in c.code_on(r):
        t = c.toks[s]
        if t.type != T.OP or t.string != ";":
            continue
        n = c.next(s)
        if n is None or c.toks[n].start[0] != r:
            yield replace(c, r, r, [line[:t.start[1]].rstrip() + line[t.end[1]:]])
            continue
        for stmts in c.stmt_lists():
            if any(c.tok(x) == n for x in stmts):
                col = c.toks[c.tok(stmts[0])].start[1]
                new = [line[:t.start[1]].rstrip(), " " * col + line[c.toks[n].start[1]:]]
                yield replace(c, r, r, new)


def comment_prefix(comment: str) -> str:
    "The `# ` (or `#: `, `## `) a comment's text follows."
    return re.match(r"#[#:!]*\s*", comment).group()


def wrap_comment(comment: str, col: int) -> list[str]:
    "A comment as lines of at most WIDTH characters starting at column col."
    prefix = comment_prefix(comment)
    body = comment[len(prefix):]
    if not body:
        return [" " * col + comment]
    pieces = textwrap.wrap(body, max(20, WIDTH - col - len(prefix)), break_long_words=False,
                           break_on_hyphens=False)
    return [" " * col + prefix + p for p in pieces]


def comment_fixes(c: Cell, r: int):
    "A too long comment wrapped, or moved from the end of its row to the rows above."
    i = c.comment_on(r)
    if i is None:
        return
    line, t = c.lines[r - 1], c.toks[i]
    code, noqa = line[:t.start[1]].rstrip(), NOQA.match(t.string)
    if noqa and code.strip():
        above = wrap_comment("# " + noqa.group(2), lead(line))
        yield replace(c, r, r, above + [code + "  " + noqa.group(1)])
    if KEEP_COMMENT.match(t.string):
        return
    if not code.strip():
        last, texts = r, [t.string]
        while last < len(c.lines) and len(c.lines[last]) > WIDTH:
            k = c.comment_on(last + 1)
            if k is None or c.toks[k].start[1] != t.start[1] or c.lines[last][:t.start[1]].strip():
                break
            if comment_prefix(c.toks[k].string) != comment_prefix(t.string):
                break
            texts.append(c.toks[k].string[len(comment_prefix(t.string)):])
            last += 1
        if last > r:
            yield replace(c, r, last, wrap_comment(" ".join(texts), t.start[1]))
        yield replace(c, r, r, wrap_comment(t.string, t.start[1]))
        return
    params = {row for _, rows in c.param_rows() for row in rows}
    if r not in params:
        yield replace(c, r, r, wrap_comment(t.string, lead(line)) + [code])
        return
    pad = min(2, t.start[1] - len(code))
    if len(code) + pad + len(t.string) <= WIDTH:
        yield replace(c, r, r, [code + " " * pad + t.string])
    opener = signature_opener(c, r)
    if opener is not None and c.toks[opener].start[0] == r:
        col = c.toks[opener].end[1]
        rest = line[col:].lstrip()
        if col + len(rest) <= WIDTH:
            yield replace(c, r, r, [line[:col], " " * col + rest])
    else:
        yield replace(c, r, r, wrap_comment(t.string, lead(line)) + [code])
    if opener is not None:
        yield hanging_signature(c, opener)


def signature_opener(c: Cell, r: int) -> int | None:
    "The `(` of the signature that has a parameter on row r, when the first parameter follows it."
    for node, rows in c.param_rows():
        if r not in rows or not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            continue
        o = c.tok(node)
        while o is not None and c.toks[o].string != "(":
            o = c.next(o)
        n = None if o is None else c.next(o)
        if o in c.match and c.toks[n].string != ")" and c.toks[n].start[0] == c.toks[o].start[0]:
            return o
    return None


def hanging_signature(c: Cell, o: int) -> str:
    "The signature opened by `(` at token o with its parameters one level in, `)` back out."
    r, col = c.toks[o].start[0], c.toks[o].end[1]
    line = c.lines[r - 1]
    ind, close = lead(line), c.toks[c.match[o]]
    new = [line[:col], " " * (ind + STEP) + line[col:].lstrip()]
    for row in range(r + 1, close.start[0] + 1):
        text = c.lines[row - 1]
        if row == close.start[0] and close.start[1] == lead(text):
            new.append(" " * ind + text.lstrip())
        else:
            new.append(shifted(c, row, ind + STEP - col, ind + STEP))
    return replace(c, r, close.start[0], new)


def string_parts(s: str) -> tuple[str, str]:
    "(prefix, quote) of a string literal."
    m = re.match(r"([A-Za-z]*)('''|\"\"\"|'|\")", s)
    return m.group(1), m.group(2)


def escape_end(s: str, i: int, raw: bool) -> int:
    "Where the escape sequence starting at s[i] (a backslash) ends."
    nxt = s[i + 1:i + 2]
    if raw or not nxt:
        return i + 2
    if nxt == "N" and s[i + 2:i + 3] == "{":
        return s.index("}", i) + 1
    sizes = {"x": 4, "u": 6, "U": 10}
    if nxt in sizes:
        return i + sizes[nxt]
    if nxt in "01234567":
        j = i + 2
        while j < i + 4 and s[j:j + 1] in tuple("01234567"):
            j += 1
        return j
    return i + 2


def field_end(s: str, i: int) -> int:
    "Where the f-string replacement field starting at s[i] (a `{`) ends."
    depth, j = 0, i
    while j < len(s):
        ch = s[j]
        if ch in "'\"":
            j = s.index(ch, j + 1)
        elif ch in "{[(":
            depth += 1
        elif ch in "}])":
            depth -= 1
            if depth == 0:
                return j + 1
        j += 1
    return j


def cut_points(s: str) -> list[tuple[int, int]]:
    """(offset, rank) where string literal `s` may be cut in two: just after a space (rank 0; 1
    inside a regex's `[...]` or a template's `{{ }}`/`{% %}`); in a literal without spaces (a
    regex, a URL), after punctuation (rank 2). Never in an escape or an f-string's `{field}`."""
    prefix, q = string_parts(s)
    raw, fmt = "r" in prefix.lower(), "f" in prefix.lower()
    i, end, inside, spaced, anywhere = len(prefix) + len(q), len(s) - len(q), 0, [], []
    while i < end:
        ch, two = s[i], s[i:i + 2]
        if ch == "\\":
            i = escape_end(s, i, raw)
        elif fmt and two in ("{{", "}}"):
            i += 2
        elif fmt and ch == "{":
            i = field_end(s, i)
        elif not fmt and two in ("{{", "{%", "}}", "%}"):
            inside = inside + 1 if two[0] in "{%" and two != "%}" else max(0, inside - 1)
            i += 2
        else:
            if raw and ch in "[]":
                inside = inside + 1 if ch == "[" else max(0, inside - 1)
            i += 1
            if ch == " " and i < end and s[i] not in " \n":
                spaced.append((i, 1 if inside else 0))
        if i < end and (s[i - 1] in "/#.?&=_-|,;:" or s[i] == "(") and "\n" not in s[i - 1:i + 1]:
            anywhere.append((i, 2))
    return spaced or (anywhere if len(s) > 50 else [])


def operand_end(t) -> bool:
    "Whether a token can end an operand (so that a binary operator may follow it)."
    if t.type == T.NAME:
        return t.string in ("True", "False", "None") or t.string not in KEYWORDS
    return t.type in (T.NUMBER, T.STRING) or (t.type == T.OP and t.string in CLOSERS)


KEYWORDS = set(__import__("keyword").kwlist)


def plain_comma(c: Cell, k: int) -> bool:
    "Whether the comma at token k separates items (not names after `for` or `lambda`)."
    depth = c.inside[k]
    j = c.prev(k)
    while j is not None and len(c.inside[j]) >= len(depth):
        t = c.toks[j]
        if c.inside[j] == depth and t.string in ("for", "lambda") and t.type == T.NAME:
            return False
        if c.inside[j] == depth and t.string in ("in", ":"):
            return True
        j = c.prev(j)
    return True


def continuation(c: Cell, b: int) -> int:
    "The column where a new row of the items in bracket b starts, as its other rows do."
    n = c.next(b)
    if n is None or c.toks[n].start[0] == c.toks[b].start[0]:
        return c.toks[b].end[1]
    return c.toks[n].start[1]


def after_close(c: Cell, b: int, r: int) -> str:
    "The code after bracket b's closer when it closes on row r ('' when it closes later)."
    k = c.match.get(b)
    if k is None or c.toks[k].start[0] != r:
        return ""
    i = c.comment_on(r)
    end = c.toks[i].start[1] if i is not None else len(c.lines[r - 1])
    return c.lines[r - 1][c.toks[k].end[1]:end].strip()


def operators_before(c: Cell, b: int, commas: bool = False) -> bool:
    "Whether bracket b (or the outermost bracket around it) follows an operator on its row."
    b = (c.inside[b] + (b,))[0]
    j = c.prev(b)
    while j is not None and c.toks[j].start[0] == c.toks[b].start[0]:
        t, p = c.toks[j], c.prev(j)
        if c.inside[j]:
            pass
        elif t.type == T.OP and (t.string.endswith("=") and t.string not in BINARY_OPS
                                 or t.string == ":"):
            return False
        elif t.string in BINARY_OPS | KEYWORD_BREAKS and p is not None and operand_end(c.toks[p]):
            return True
        elif commas and t.string == ",":
            return True
        j = p
    return False


def candidates(c: Cell, r: int) -> list[dict]:
    "The places where row r may be broken in two, each with what the break would look like."
    line, found = c.lines[r - 1], []
    for j in c.code_on(r):
        t, depth = c.toks[j], len(c.inside[j])
        if t.type == T.STRING and t.start[0] == t.end[0]:
            found += string_cuts(c, r, j)
        p = c.prev(j)
        if p is None or c.toks[p].end[0] != r or not depth or t.string in CLOSERS:
            continue
        ps, kind, b = c.toks[p], None, c.inside[j][-1]
        col = continuation(c, b)
        if ps.string == "," and ps.type == T.OP and plain_comma(c, p):
            kind = "comma"
        elif t.type == T.STRING and ps.type == T.STRING:
            q = p
            while c.prev(q) is not None and c.toks[c.prev(q)].type == T.STRING:
                q = c.prev(q)
            kind, col = "concat", c.toks[q].start[1]
        elif t.type in (T.NAME, T.OP) and operand_end(ps) and (
                t.string in KEYWORD_BREAKS and t.type == T.NAME or t.string in BINARY_OPS):
            kind = "operator" if j != c.code_on(r)[-1] else None
        elif ps.type == T.OP and ps.string in OPENERS and b == p:
            kind, col = "open", lead(line) + STEP
        if kind is None:
            continue
        far = col > 60 and c.toks[b].start[0] == r and kind != "open"
        messy = len(after_close(c, b, r)) > 12 or operators_before(c, b, kind == "open")
        found.append(dict(kind=kind, depth=depth, pos=t.start[1], rank=0, far=far, j=j, b=b,
                          op=t.string, x=t.start[1],
                          messy=messy, head=line[:t.start[1]].rstrip(),
                          tail=" " * col + line[t.start[1]:], carry=False))
    nxt = c.lines[r] if r < len(c.lines) else ""
    i = c.comment_on(r)
    noqa = c.toks[i].string if i is not None and re.match(r"#\s*noqa", c.toks[i].string) else ""
    for f in found:
        if noqa:
            f["head"] += "  " + noqa
        f["fits"] = len(f["tail"]) <= WIDTH
        if f["kind"] == "comma" and len(nxt) > WIDTH and lead(nxt) == lead(f["tail"]):
            k = next(iter(c.code_on(r + 1)), None)
            same = k is not None and c.inside[k] == c.inside[f["j"]]
            if same and line.rstrip().endswith(",") and c.comment_on(r) is None:
                f["carry"] = f["fits"] = True
    return [f for f in found if len(f["head"]) <= WIDTH and f["head"].strip()
            and (len(f["tail"]) < len(line) or f["carry"])]


KINDS = {"comma": 0, "concat": 0, "operator": 1, "cut": 2, "open": 3}
PRECEDENCE = [{"if", "else", "for"}, {"or"}, {"and"}, {"==", "!=", "<", ">", "<=", ">="},
              {"|"}, {"^"}, {"&"}, {"<<", ">>"}, {"+", "-"}, {"*", "/", "//", "%", "@"}, {"**"}]


def precedence(f: dict) -> int:
    "How tightly the operator a break goes before binds (0: loosest), so breaks go loosest first."
    if f["kind"] != "operator":
        return 0
    return next(i for i, ops in enumerate(PRECEDENCE) if f["op"] in ops)


def breaks(c: Cell, r: int, good: bool):
    "Row r broken in two inside its brackets: the good breaks (or the others), best first."
    found = [f for f in candidates(c, r)
             if good == (not f["far"] and not f["messy"] and f["rank"] < 3)]
    rest = [f for f in found if f["kind"] != "open"]
    rest.sort(key=lambda f: (f["rank"] > 1, f["depth"], KINDS[f["kind"]], not f["fits"], f["rank"],
                             precedence(f), -f["pos"]))
    opens = sorted((f for f in found if f["kind"] == "open"), key=lambda f: (f["depth"], f["pos"]))
    for f in rest + opens:
        if f["carry"]:
            tail = f["tail"].rstrip() + " " + c.lines[r].lstrip()
            yield replace(c, r, r + 1, [f["head"], tail])
        elif f["kind"] == "open" and f["b"] in c.match:
            last, col = c.toks[c.match[f["b"]]].start[0], lead(f["tail"])
            delta = col - c.toks[f["b"]].end[1]
            rows = [shifted(c, x, delta, col) if starts_in(c, x, f["b"]) else c.lines[x - 1]
                    for x in range(r + 1, last + 1)]
            yield replace(c, r, last, [f["head"], f["tail"]] + rows)
        else:
            moved = [b for b in c.rows.get(r, []) if b in c.match and c.toks[b].start[1] >= f["x"]]
            last = max([c.toks[c.match[b]].start[0] for b in moved] + [r])
            delta = len(f["tail"]) - len(c.lines[r - 1])
            rows = [shifted(c, x, delta) if any(starts_in(c, x, b) for b in moved)
                    else c.lines[x - 1] for x in range(r + 1, last + 1)]
            yield replace(c, r, last, [f["head"], f["tail"]] + rows)


def starts_in(c: Cell, r: int, b: int) -> bool:
    "Whether row r starts inside bracket b (b or a bracket in it holds its first token)."
    k = next(iter(c.code_on(r)), None)
    return k is not None and b in c.inside[k]


def realign(c: Cell, r: int):
    "Row r, a row of items in a bracket, moved left to where the bracket's items start."
    k = next(iter(c.code_on(r)), None)
    if k is None or not c.inside[k] or c.in_string(r):
        return
    col = continuation(c, c.inside[k][-1])
    line = c.lines[r - 1]
    if col < lead(line) and c.toks[k].string not in CLOSERS:
        yield replace(c, r, r, [" " * col + line.lstrip()])


def string_cuts(c: Cell, r: int, j: int) -> list[dict]:
    "Ways to cut the string token j on row r in two adjacent literals (in brackets if need be)."
    t, line, out = c.toks[j], c.lines[r - 1], []
    prefix, q = string_parts(t.string)
    sc, depth = t.start[1], len(c.inside[j])
    p, n = c.prev(j), c.next(j)
    alone = all(k is None or c.toks[k].type != T.STRING for k in (p, n))
    whole = (n is None or c.toks[n].start[0] != r or c.toks[n].string in ",:)]}") and (
        p is None or not (c.toks[p].string in BINARY_OPS | KEYWORD_BREAKS | {".", "%"}))
    if not depth and not (alone and whole):
        return out
    short = len(t.string) < 40
    b = c.inside[j][-1] if depth else None
    messy = bool(depth) and (operators_before(c, b) or len(after_close(c, b, r)) > 12)
    inner = t.string[len(prefix) + len(q):len(t.string) - len(q)]
    piece_q = q[0] if len(q) == 3 and "\\" not in inner and q[0] not in inner else q
    for k, rank in cut_points(t.string):
        left = prefix + piece_q + t.string[len(prefix) + len(q):k] + piece_q
        right = prefix + piece_q + t.string[k:len(t.string) - len(q)] + piece_q
        if depth:
            head, tail = line[:sc] + left, " " * sc + right + line[t.end[1]:]
        else:
            head = line[:sc] + "(" + left
            tail = " " * (sc + 1) + right + ")" + line[t.end[1]:]
        out.append(dict(kind="cut", depth=max(depth, 1), pos=sc + k, rank=3 if short else rank,
                        far=sc > 60, messy=messy, head=head, tail=tail, carry=False, x=t.end[1]))
    return out


def wraps(c: Cell, r: int):
    "An expression that starts on row r, with operators or commas outside brackets, in parentheses."
    for node in ast.walk(c.tree):
        if isinstance(node, ast.ImportFrom) and node.lineno == r:
            i = c.tok(node)
            while i is not None and c.toks[i].string != "import":
                i = c.next(i)
            first = c.next(i)
            if c.toks[first].string != "(":
                end = c.lines[node.end_lineno - 1].encode()[:node.end_col_offset]
                last = len(end.decode(errors="replace"))
                yield parenthesized(c, r, c.toks[first].start[1], node.end_lineno, last)
            continue
        fields = ["value", "test", "iter", "msg"] if isinstance(node, ast.stmt) else []
        targets = node.targets if isinstance(node, ast.Assign) else []
        for e in [getattr(node, f, None) for f in fields] + targets:
            if isinstance(e, ast.expr) and e.lineno == r and loose(c, e):
                end = c.lines[e.end_lineno - 1].encode()[:e.end_col_offset]
                start = c.toks[c.tok(e)].start[1]
                yield parenthesized(c, r, start, e.end_lineno, len(end.decode(errors="replace")))


def last_tok(c: Cell, e) -> int:
    "The index of expression e's last token."
    line = c.lines[e.end_lineno - 1]
    end = (e.end_lineno, len(line.encode()[:e.end_col_offset].decode(errors="replace")))
    return max(i for i, t in enumerate(c.toks) if t.end == end and t.type not in SKIP)


def loose(c: Cell, e) -> bool:
    "Whether expression e is not in parentheses and has an operator or comma outside brackets."
    i = c.tok(e)
    if i is None:
        return False
    p, last = c.prev(i), last_tok(c, e)
    if p is not None and c.toks[p].string == "(" and c.match.get(p) == c.next(last):
        return False
    base, j = c.inside[i], i
    while j is not None and j <= last:
        t = c.toks[j]
        if c.inside[j] == base and t.string in BINARY_OPS | KEYWORD_BREAKS | {",", "not", "in"}:
            return True
        j = c.next(j)
    return False


def parenthesized(c: Cell, r1: int, col1: int, r2: int, col2: int) -> str:
    "The cell's text with `(` put at row r1, column col1 and `)` at row r2, column col2."
    lines = c.lines[:]
    lines[r2 - 1] = lines[r2 - 1][:col2] + ")" + lines[r2 - 1][col2:]
    lines[r1 - 1] = lines[r1 - 1][:col1] + "(" + lines[r1 - 1][col1:]
    return "\n".join(lines)


def string_continuations(c: Cell, r: int):
    "A row inside a triple-quoted string ended by `\\` and continued at column 0 (same value)."
    j = c.string_over(r)
    if j is None:
        return
    t = c.toks[j]
    prefix, q = string_parts(t.string)
    if "r" in prefix.lower():
        return
    line, found = c.lines[r - 1], []
    for k, rank in cut_points(t.string):
        row = t.start[0] + t.string.count("\n", 0, k)
        col = k - t.string.rfind("\n", 0, k) - 1 if "\n" in t.string[:k] else t.start[1] + k
        if row == r and col + 1 <= WIDTH:
            found.append((rank, -col))
    for _, col in sorted(found):
        yield replace(c, r, r, [line[:-col] + "\\", line[-col:]])


def run_ruff(src: str, width: int) -> str | None:
    "`src` formatted by ruff at line length `width` (quotes as written); None if ruff fails."
    ruff = shutil.which("ruff")
    if ruff is None:
        sys.exit("ruff is not installed: pip install ruff")
    cmd = [ruff, "format", "--isolated", f"--line-length={width}", "--config",
           "format.quote-style='preserve'", "--stdin-filename=cell.py", "-"]
    r = subprocess.run(cmd, input=src, capture_output=True, text=True)
    return None if r.returncode else r.stdout


def ruff_fix(c: Cell, r: int):
    "The statement (or a compound statement's header) holding row r, formatted by ruff alone."
    best = None
    for node in ast.walk(c.tree):
        if not isinstance(node, ast.stmt) or c.tok(node) is None:
            continue
        body = getattr(node, "body", None)
        compound = isinstance(body, list) and bool(body) and isinstance(body[0], ast.stmt)
        if compound and c.tok(body[0]) is None:
            continue
        last = c.toks[c.prev(c.tok(body[0]))].start[0] if compound else node.end_lineno
        if node.lineno <= r <= last and (best is None or last - node.lineno < best[1] - best[0]):
            best = (node.lineno, last, compound, c.tok(node))
    if best is None:
        return
    first, last, compound, i = best
    ind = c.toks[i].start[1]
    rows = c.lines[first - 1:last]
    if rows[0][:ind].strip() or any(c.in_string(x) for x in range(first + 1, last + 1)):
        return
    if any(c.comment_on(x) is not None for x in range(first, last + 1)):
        return
    src = "\n".join(l[ind:] if not l[:ind].strip() else l.lstrip() for l in rows)
    if compound:
        src += "\n" + " " * STEP + "pass"
    out = run_ruff(src + "\n", WIDTH - ind)
    if out is None:
        return
    new = out.rstrip("\n").split("\n")
    if compound:
        if new[-1].strip() != "pass":
            return
        new = new[:-1]
    yield replace(c, first, last, [" " * ind + l if l else l for l in new])


def attempts(c: Cell, r: int, use_ruff: bool = True):
    "Candidate texts of the cell, each fixing (part of) row r, best first."
    line = c.lines[r - 1]
    semis = any(c.toks[i].string == ";" and c.toks[i].type == T.OP for i in c.code_on(r))
    if len(line) <= WIDTH and not semis:
        return
    if semis or not KEEP_ONE_LINERS:
        yield from block_form(c, r)
    if semis:
        yield from split_statements(c, r)
    if len(line) > WIDTH:
        yield from comment_fixes(c, r)
        yield from string_continuations(c, r)
        yield from realign(c, r)
        yield from breaks(c, r, good=True)
        if KEEP_ONE_LINERS:
            yield from block_form(c, r)
        yield from wraps(c, r)
        yield from breaks(c, r, good=False)
        if use_ruff:
            yield from ruff_fix(c, r)


def problem(c: Cell, r: int) -> bool:
    "Whether row r is too long or holds a ';' between statements."
    if len(c.lines[r - 1]) > WIDTH:
        return True
    return any(c.toks[i].string == ";" and c.toks[i].type == T.OP for i in c.code_on(r))


def changed_rows(old: Cell, new: Cell) -> range:
    "The rows of `new` from its first to its last that differ from `old`."
    a, b, p, s = old.lines, new.lines, 0, 0
    while p < min(len(a), len(b)) and a[p] == b[p]:
        p += 1
    while s < min(len(a), len(b)) - p and a[-1 - s] == b[-1 - s]:
        s += 1
    return range(p + 1, len(b) - s + 1)


class Fixer:
    "Fixes a cell's problem rows, keeping only changes that leave its AST and docments as they are."

    def __init__(self, text: str):
        c = Cell(text)
        self.tree, self.docs, self.budget = ast.dump(c.tree), c.docments(), 0

    def valid(self, old: Cell, new: str) -> Cell | None:
        "The new text as a Cell if it parses to the same AST and docments, else None."
        self.budget -= 1
        try:
            d = Cell(new)
        except (SyntaxError, T.TokenError, ValueError):
            return None
        same = new != old.text and ast.dump(d.tree) == self.tree and d.docments() == self.docs
        return d if same else None

    def settle(self, c: Cell, r: int, use_ruff: bool, depth: int = 0) -> Cell | None:
        "The cell with row r, and every row its fix makes, free of problems; None if not found."
        if not problem(c, r):
            return c
        if depth > 12 or self.budget <= 0:
            return None
        for new in attempts(c, r, use_ruff):
            d = self.valid(c, new)
            for x in reversed(changed_rows(c, d) if d else []):
                d = d and self.settle(d, x, use_ruff, depth + 1)
            if d is not None:
                return d
            if self.budget <= 0:
                return None
        return None

    def step(self, c: Cell, r: int) -> Cell | None:
        "The cell with row r fixed, else with fewer problem rows; None if neither can be had."
        for use_ruff in (False, True):
            self.budget = 400
            done = self.settle(c, r, use_ruff)
            if done is not None:
                return done
        count = sum(problem(c, x) for x in range(1, len(c.lines) + 1))
        for new in attempts(c, r):
            d = self.valid(c, new)
            if d is not None and sum(problem(d, x) for x in range(1, len(d.lines) + 1)) < count:
                return d
        return None


def fix_cell(text: str) -> str:
    "The cell's source with its problem lines fixed, as far as a fix keeps its AST and docments."
    try:
        fixer, c = Fixer(text), Cell(text)
    except (SyntaxError, T.TokenError, ValueError):
        return text
    failed = set()
    for _ in range(MAX_STEPS):
        rows = range(1, len(c.lines) + 1)
        todo = [r for r in rows if problem(c, r) and c.lines[r - 1] not in failed]
        if not todo:
            break
        d = fixer.step(c, todo[0])
        if d is None:
            failed.add(c.lines[todo[0] - 1])
        c = d or c
    return c.text


def source_lines(text: str) -> list[str]:
    "A cell's source as a notebook stores it: lines that keep their newline."
    parts = text.split("\n")
    return [p + "\n" for p in parts[:-1]] + ([parts[-1]] if parts[-1] else [])


def notebooks(root: Path) -> list[Path]:
    "The notebooks under nbs/, checkpoints left out."
    return sorted(p for p in (root / "nbs").rglob("*.ipynb") if ".ipynb_checkpoints" not in p.parts)


def lib_path(root: Path) -> Path:
    "The package folder settings.ini names."
    cfg = configparser.ConfigParser(delimiters=["="])
    cfg.read(root / "settings.ini", encoding="utf-8")
    return root / cfg["DEFAULT"].get("lib_path", "xenc")


def verify_ast(root: Path, old: Path) -> int:
    "How many of the package's modules differ in AST from their namesakes under folder `old`."
    bad, olds = 0, sorted(old.rglob("*.py"))
    for p in olds:
        new = lib_path(root) / p.relative_to(old)
        same = new.exists() and ast.dump(ast.parse(p.read_text())) == ast.dump(ast.parse(
            new.read_text()))
        if not same:
            bad += 1
            print(f"{new}: its AST differs from {p}'s")
    print(f"{len(olds) - bad} modules with the same AST, {bad} different")
    return bad


def fix_text(text: str, check: bool, where: str) -> tuple[str, list[str]]:
    "The text fixed (unless `check`) and its problems left, each as a line of the report."
    if not check and problems(text):
        text = fix_cell(text)
    lines = text.split("\n")
    left = [f"{where} line {r}: {why}: {lines[r - 1].strip()[:60]}" for r, why in problems(text)]
    return text, left


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--check", action="store_true", help="only list the problem lines (exit 1)")
    ap.add_argument("--root", type=Path, default=Path(__file__).resolve().parent.parent,
                    help="the project (default: the one this file is in)")
    ap.add_argument("--verify-ast", type=Path, metavar="OLD",
                    help="compare the package's modules with a copy of them made before")
    ap.add_argument("--py", type=Path, nargs="*", default=[], metavar="FILE",
                    help="also these Python files (e.g. a hand-written __init__.py)")
    ap.add_argument("--keep-one-liners", action="store_true",
                    help="break `if c: x(...)` inside its brackets first, the block form after")
    args = ap.parse_args()
    global KEEP_ONE_LINERS
    KEEP_ONE_LINERS = args.keep_one_liners
    root = args.root.resolve()
    if args.verify_ast:
        sys.exit(1 if verify_ast(root, args.verify_ast) else 0)
    left, changed = [], 0
    for path in notebooks(root):
        nb, touched = json.loads(path.read_text(encoding="utf-8")), False
        for n, cell in enumerate(nb["cells"]):
            if exported(cell):
                src = "".join(cell["source"])
                where = f"{path.relative_to(root)} cell {n} ({cell.get('id', '?')})"
                new, more = fix_text(src, args.check, where)
                left += more
                if new != src:
                    cell["source"], touched = source_lines(new), True
        if touched:
            text = json.dumps(nb, sort_keys=True, indent=1, ensure_ascii=False) + "\n"
            path.write_text(text, encoding="utf-8")
            changed += 1
    for path in args.py:
        src = path.read_text(encoding="utf-8")
        new, more = fix_text(src, args.check, str(path))
        left += more
        if new != src:
            path.write_text(new, encoding="utf-8")
            changed += 1
    print("\n".join(left))
    if not args.check:
        print(f"{changed} files changed")
    if left:
        sys.exit(f"{len(left)} exported lines over {WIDTH} characters or joined with ';'")


if __name__ == "__main__":
    main()
