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
# The four sound real crawls in tests/data/warc (keep in step with tests/conftest.py's DEMO_WARCS).
DEMO_WARCS := cc-whirlwind/whirlwind.warc.gz dolma-wget-warc/sample-0000.warc.gz \
	resiliparse-fastwarc/clueweb-quirk.warc.gz resiliparse-fastwarc/warcfile.warc.gz

.PHONY: install demo test lint bench clean

install: $(VENV)/.installed

$(VENV)/.installed: setup.py
	@command -v $(PYTHON) >/dev/null || { echo "needs $(PYTHON) (set PYTHON=...)"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip setuptools wheel
	$(BIN)/pip install --quiet $(TORCH) cython numpy
	$(BIN)/pip install --quiet --no-build-isolation $(FAIRSEQ)
	PYTHONWARNINGS='ignore:Editable installation' $(BIN)/pip install --quiet -e '.[train,dev]'
	touch $@

demo: install
	$(BIN)/htlm-pipeline $(foreach w,$(DEMO_WARCS),--input tests/data/warc/$(w)) --output $(DEMO_OUT)
	$(BIN)/htlm-tokenizer train --input '$(DEMO_OUT)/documents-*.jsonl.gz' --model-prefix $(DEMO_OUT)/tokenizer/spm --vocab-size 4000
	$(BIN)/htlm-tokenizer binarize --input '$(DEMO_OUT)/documents-*.jsonl.gz' --spm-model $(DEMO_OUT)/tokenizer/spm.model --destdir $(DEMO_OUT)/data-bin --valid-fraction 0.1

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
