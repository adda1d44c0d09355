# The two quick-start commands: `make demo` and `make test`. Both install first.
PYTHON ?= python3.11
VENV ?= .venv
BIN := $(VENV)/bin
# (PYTHONWARNINGS hides setuptools' note that the htlm/ folder shadows the package: it is the package.)
# torch first and pinned: pip then takes the CPU wheel on this disk and never resolves a bare
# `torch` into a multi-GB CUDA build. fairseq's C++/Cython extensions are built against that
# torch (--no-build-isolation); pip's wheel cache makes later installs skip the 3-minute build.
TORCH := torch==2.13.0
FAIRSEQ := fairseq-fixed==0.12.3.1
DEMO_OUT ?= out/demo

.PHONY: install demo demo-gpu test lint bench clean

install: $(VENV)/.installed $(VENV)/.walk-built

$(VENV)/.installed: setup.py
	@command -v $(PYTHON) >/dev/null || { echo "needs $(PYTHON) (set PYTHON=...)"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip setuptools wheel
	$(BIN)/pip install --quiet $(TORCH) cython numpy "lxml>=5.2,<7"
	$(BIN)/pip install --quiet --no-build-isolation $(FAIRSEQ)
	PYTHONWARNINGS='ignore:Editable installation' $(BIN)/pip install --quiet --no-build-isolation -e '.[train,dev]'
	touch $@

# The compiled simplifier walk (setup.py builds it in place on install; this rebuilds it after an edit).
$(VENV)/.walk-built: pipeline/simplify/_walk.pyx $(VENV)/.installed
	$(BIN)/python setup.py --quiet build_ext --inplace
	touch $@

# Beam job -> tokenizer + data-bin -> htlm_tiny training -> zero-shot titles -> report (htlm.demo.run).
demo: install
	$(BIN)/htlm-demo --output $(DEMO_OUT)

# The same chain on a GPU: htlm_base, 512-token blocks, 5000 bf16 updates.
demo-gpu: install
	$(BIN)/htlm-demo --gpu --output out/demo-gpu

test: install
	$(BIN)/python -m pytest -q

lint: install
	$(BIN)/ruff check .

bench: install
	$(BIN)/python bench/simplify.py
	$(BIN)/python bench/read_warc.py
	$(BIN)/python bench/pipeline.py
	$(BIN)/python bench/tokenizer.py
	$(BIN)/python bench/minhash.py
	$(BIN)/python bench/train_cpu.py
	$(BIN)/python bench/prompt.py

clean:
	rm -rf $(VENV) out .pytest_cache
