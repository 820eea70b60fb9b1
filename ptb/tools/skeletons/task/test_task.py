"""{{title}}: the scorer on a scripted model, offline (scaffolded by `new-task {{name}}`).

Right answers score 1, wrong and empty ones 0, and <think> blocks are ignored.
"""

from ptb.evaluation.scripted_model import by_fragment, run, scripted, values

from ptb.core.tasks import load_task, module, read_jsonl, task_dir

NAME = "{{name}}"
DATA = task_dir(NAME) / "data"


def samples():
    return list(load_task(NAME, DATA).dataset)


def accuracy(log) -> float:
    return log.results.scores[0].metrics["accuracy"].value


def test_right_answers_score_1(tmp_path):
    right = module(NAME).reference_completion
    model = scripted(by_fragment({s.input: right(s) for s in samples()}))
    log = run(load_task(NAME, DATA), model, tmp_path)
    assert set(values(log).values()) == {"C"}
    assert accuracy(log) == 1.0


def test_wrong_empty_and_thinking_score_0(tmp_path):
    right = module(NAME).reference_completion
    replies = ["ANSWER: certainly not this", "", "<think>{}</think>\nI am not sure."]
    items = samples()
    model = scripted(by_fragment({s.input: replies[i % 3].format(right(s)) for i, s in enumerate(items)}))
    log = run(load_task(NAME, DATA), model, tmp_path)
    assert set(values(log).values()) == {"I"}
    assert accuracy(log) == 0.0


def test_thinking_is_stripped_before_scoring(tmp_path):
    right = module(NAME).reference_completion
    model = scripted(by_fragment({s.input: f"<think>ANSWER: a wrong guess</think>\n{right(s)}" for s in samples()}))
    log = run(load_task(NAME, DATA), model, tmp_path)
    assert accuracy(log) == 1.0


def test_test_texts_cover_every_record():
    records = read_jsonl(DATA / "test.jsonl")
    texts = [module(NAME).test_texts(r) for r in records]
    assert records and all(t and all(isinstance(x, str) and x for x in t) for t in texts)
