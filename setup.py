"""The htlm distribution: pipeline/, model/ and prompts/ imported as htlm.pipeline, htlm.model, htlm.prompts.

Also the file Beam ships to remote workers (``--setup_file ./setup.py``).
Install torch first (``pip install torch==2.13.0``): the range below admits it, so pip
never resolves a bare ``torch`` into a multi-GB CUDA build.
"""

import sys
from pathlib import Path

from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext
from setuptools.errors import CCompilerError, CompileError, ExecError, LinkError, PlatformError

HERE = Path(__file__).parent
WALK = "pipeline/simplify/_walk"  # the compiled text-rule walk (text_rule.py holds the Python one)
# pipeline/<stage>/ folders are the subpackages htlm.pipeline.<stage>
PIPELINE_STAGES = sorted(
    f"htlm.pipeline.{path.parent.name}" for path in (HERE / "pipeline").glob("*/__init__.py")
)

TRAIN = [
    "torch>=2.5,<2.15",
    "fairseq-fixed==0.12.3.1",
    "rouge-score>=0.1.2",  # htlm-prompt --metric rouge
    "matplotlib>=3.8",  # htlm-demo's figures
]
HF = ["transformers>=5,<6"]  # htlm-export-hf (tokenizers and safetensors come with it)


def _skip_walk(why: object) -> list[Extension]:
    print(f"htlm: the compiled simplifier walk is not built ({why}); the pure-Python walk will run, "
          "about 2x slower. To build it: pip install cython lxml, then reinstall with --no-build-isolation.",
          file=sys.stderr)  # fmt: skip
    return []


def compiled_walk() -> list[Extension]:
    """The optional C extension: from the .pyx with Cython, from the generated .c without (an sdist)."""
    try:
        import lxml
    except ImportError as missing:
        return _skip_walk(missing)
    extension = Extension(
        "htlm.pipeline.simplify._walk", [f"{WALK}.pyx"], include_dirs=lxml.get_include(),
        extra_compile_args=[] if sys.platform == "win32" else ["-Wno-unused-function"],  # lxml's header
    )  # fmt: skip
    try:
        from Cython.Build import cythonize
    except ImportError as missing:
        if not (HERE / f"{WALK}.c").exists():
            return _skip_walk(missing)
        extension.sources = [f"{WALK}.c"]
        return [extension]
    return cythonize([extension], compiler_directives={"language_level": 3}, quiet=True)


class OptionalBuildExt(build_ext):
    """Build the compiled walk if a C compiler works; otherwise warn and leave the Python walk."""

    def run(self) -> None:
        try:
            super().run()
        except (CCompilerError, CompileError, ExecError, LinkError, PlatformError, OSError) as error:
            _skip_walk(error)

    def build_extension(self, ext: Extension) -> None:
        try:
            super().build_extension(ext)
        except (CCompilerError, CompileError, ExecError, LinkError, PlatformError, OSError) as error:
            _skip_walk(error)


setup(
    name="htlm",
    version="0.1.0",
    description="Hypertext LM pretraining: Common Crawl -> Minimal HTML -> BART denoiser -> HTML prompts",
    long_description=(HERE / "README.md").read_text(encoding="utf-8"),
    long_description_content_type="text/markdown",
    license="Apache-2.0",
    python_requires=">=3.11,<3.12",
    packages=["htlm", "htlm.demo", "htlm.pipeline", *PIPELINE_STAGES, "htlm.model", "htlm.prompts"],
    package_dir={
        "htlm": "htlm",
        "htlm.pipeline": "pipeline",
        "htlm.model": "model",
        "htlm.prompts": "prompts",
    },
    install_requires=[
        "apache-beam==2.77.*",
        "brotli>=1.1",  # Content-Encoding: br
        "lxml>=5.2,<7",
        "charset-normalizer>=3.3,<4",
        "numpy>=1.26",
        "py3langid>=0.3",  # language ID whose model ships inside the package
        "tqdm>=4.66",
        "sentencepiece==0.2.*",  # htlm-tokenizer; binarize writes fairseq's format without fairseq
        "warcio>=1.7,<2",  # frames WARC/ARC records under read_pages
        "webencodings>=0.5.1,<0.7",  # the WHATWG encoding labels
        # Beam logs "apitools not found" at every import (SDK workers included, where no filter of
        # ours runs) unless apitools is importable: a small pure-Python package.
        "google-apitools>=0.5.31",
    ],
    extras_require={
        "train": TRAIN,
        "hf": HF,
        "gcp": ["apache-beam[gcp]==2.77.*"],
        "aws": ["apache-beam[aws]==2.77.*"],
        "dev": [
            "pytest>=8",
            "hypothesis>=6.100",
            "ruff>=0.6",
            "resiliparse>=0.14",
            "trafilatura>=1.12",
            "fastwarc>=0.14",  # bench/read_warc.py
            "build>=1.0",  # Beam stages --setup_file as an sdist built with it
            *HF,  # the export test compares logits with transformers
        ],
    },
    package_data={"htlm.pipeline.report": ["report.html"], "htlm.prompts": ["templates/*.html"]},
    ext_modules=compiled_walk(),
    cmdclass={"build_ext": OptionalBuildExt},
    entry_points={
        "console_scripts": [
            "htlm-simplify=htlm.pipeline.simplify.cli:main",
            "htlm-pipeline=htlm.pipeline.beam.job:main",
            "htlm-tokenizer=htlm.pipeline.tokenizer.cli:main",
            "htlm-train=htlm.commands:train",
            "htlm-export-hf=htlm.commands:export_hf",
            "htlm-prompt=htlm.commands:prompt",
            "htlm-autoprompt=htlm.commands:autoprompt",
            "htlm-demo=htlm.commands:demo",
        ]
    },
)
