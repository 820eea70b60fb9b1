"""BFCL exec_simple: the single tool call must match name and arguments, offline."""

from ptb.core.tasks import load_task, module, read_jsonl, spec, task_dir
from ptb.evaluation.scripted_model import by_fragment, reply, run, scripted, tool_reply, values

DATA = task_dir("bfcl") / "data"


def test_scores_call_match(tmp_path):
    samples = list(load_task("bfcl", DATA, limit=6).dataset)
    exp = [s.metadata["expected"] for s in samples]
    q = [s.input[0].text for s in samples]
    wrong_args = {
        k: (v + 1 if isinstance(v, (int, float)) and not isinstance(v, bool) else "x")
        for k, v in exp[1]["arguments"].items()
    }
    model = scripted(
        by_fragment(
            {
                q[0]: tool_reply(exp[0]["function"], exp[0]["arguments"]),
                q[1]: tool_reply(exp[1]["function"], wrong_args),
                q[2]: reply(
                    f"{exp[2]['function']}({exp[2]['arguments']})"
                ),  # a call written as text is no call
                q[3]: reply(""),
                q[4]: tool_reply(
                    exp[4]["function"], exp[4]["arguments"], content="<think>which function?</think>"
                ),
                q[5]: tool_reply("not_the_function", exp[5]["arguments"]),
            }
        )
    )
    log = run(load_task("bfcl", DATA, limit=6), model, tmp_path)
    assert list(values(log).values()) == ["C", "I", "I", "I", "C", "I"]
    assert log.samples[0].output.message.tool_calls, "the call is recorded, not executed"
    assert len(log.samples[0].messages) == 2


def test_every_record_builds_a_tool_and_a_parsed_answer():
    bfcl = module("bfcl")
    records = read_jsonl(DATA / "test.jsonl")
    assert len(records) == spec("bfcl")["samples"] == 100
    for record in records:
        tool = bfcl.tool_info(record["function"][0])
        assert tool.name == bfcl.record_to_sample(record).metadata["expected"]["function"]
        assert set(tool.parameters.required) <= set(tool.parameters.properties)


def test_bfcl_types_become_json_schema_types():
    param = module("bfcl").tool_param(
        {"type": "dict", "properties": {"t": {"type": "tuple", "items": {"type": "float"}}}}
    )
    assert param.type == "object"
    assert param.properties["t"].type == "array" and param.properties["t"].items.type == "number"
