"""An evaluation job's log: each line once (inspect's and transformers' own handlers print too)."""

import subprocess
import sys
import textwrap

from helpers import REPO

SCRIPT = textwrap.dedent(
    """
    import logging, sys
    from types import SimpleNamespace
    import transformers.utils.logging as transformers_logging
    from ptb.core.config import resolve_section
    from ptb.core.smk import logged
    from ptb.evaluation import evaluation
    from ptb.evaluation.scripted_model import scripted
    from ptb.inputs.cache import prepare_dataset

    root, log_file = sys.argv[1], sys.argv[2]

    def answer(prompt):
        # what a model server's generation and inspect itself log while samples run
        transformers_logging.get_logger("transformers.generation").warning("generation flags marker")
        logging.getLogger("inspect_ai.model").warning("inspect marker")
        return "ANSWER: 1"

    evaluation.model_for = lambda *args, **kwargs: scripted(answer)
    prepare_dataset("gsm8k", "local", f"{root}/data")
    open(f"{root}/config.json", "w").write("{}")
    job = SimpleNamespace(log=[log_file], threads=1, rule="evaluate")
    with logged(job) as log:
        metrics = evaluation.evaluate(
            model_path=root, family="qwen3", benchmark="gsm8k", data_dir=f"{root}/data",
            log_dir=f"{root}/logs", evaluation=resolve_section("evaluation", {"provider": "hf"}),
            limit=2, display="log",
        )
        log.info("outcome %s", metrics["outcome"])
    """
)


def test_each_line_of_an_evaluation_once_in_its_job_log(tmp_path):
    log_file = tmp_path / "evaluate.log"
    subprocess.run(
        [sys.executable, "-c", SCRIPT, str(tmp_path), str(log_file)],
        cwd=REPO,
        check=True,
        env={**__import__("os").environ, "OMP_NUM_THREADS": "1"},
        timeout=300,
    )
    lines = log_file.read_text().splitlines()

    def count(fragment: str) -> int:
        return sum(fragment in line for line in lines)

    assert count("outcome ok") == 1, lines
    assert count("Running 1 tasks") == 1, "inspect's progress once, not also wrapped by rich"
    assert count("Steps: 2/2 100%") == 1
    assert count("generation flags marker") == 2, "transformers' warning once per sample"
    assert count("inspect marker") == 2, "inspect_ai's own records (a logger that does not propagate)"
    assert not any(line.startswith(" " * 20) for line in lines), "no rich-wrapped continuation lines"
