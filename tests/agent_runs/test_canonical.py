"""The canonical model: what is judged is what is served.

Each weight trick a red team used against the judge, built on a tiny model: either the tensors
transformers would serve from the agent's folder equal the ones written to model/ (which the
judge reads, and every evaluation serves), or the folder is refused with the reason."""

import json
import os
import shutil

import pytest
import torch
from peft import LoraConfig, get_peft_model
from safetensors.torch import load_file, save_file
from transformers import AutoModelForCausalLM

from ptb.agent_runs import canonical
from ptb.core import io
from ptb.evaluation import eval_store
from ptb.inputs.demo_models import build_tiny_qwen3

torch.set_num_threads(1)


@pytest.fixture(scope="module")
def base(tmp_path_factory):
    folder = tmp_path_factory.mktemp("base") / "model"
    build_tiny_qwen3(folder)
    return folder


def served_by_transformers(folder) -> dict:
    model = AutoModelForCausalLM.from_pretrained(folder, dtype=torch.float32)
    return {k: v.detach().clone() for k, v in model.state_dict().items()}


def weights(folder) -> dict:
    return load_file(folder / "model.safetensors")


def submitted(tmp_path, base, change=None):
    final = tmp_path / "final_model"
    shutil.copytree(base, final)
    if change:
        change(final)
    return final


def canonical_of(tmp_path, base, final):
    return canonical.canonicalize(final, base, tmp_path / "served" / "model")


def assert_served_is_judged(final, record, model):
    """transformers serves from final_model/ exactly the tensors in model/ (what the judge reads)."""
    assert record["refused"] is None and record["model"] == "model"
    from_final, from_model = served_by_transformers(final), served_by_transformers(model)
    assert from_final.keys() == from_model.keys()
    assert all(torch.equal(from_final[k], from_model[k]) for k in from_final)
    judged = weights(model)
    for name, tensor in judged.items():
        assert torch.equal(from_model[name], tensor.float()), name
    assert record["weights_sha256"] == canonical.weights_digest(model)
    assert record["files"] == io.hash_tree(model), "the recorded hashes are the files'"


def test_an_honest_folder_is_served_as_it_is_and_keeps_the_base_models_evaluation_key(tmp_path, base):
    final = submitted(tmp_path, base)
    (final / "README.md").write_text("trained with care")  # not served: not in the key
    record = canonical_of(tmp_path, base, final)
    model = tmp_path / "served" / "model"
    assert_served_is_judged(final, record, model)
    assert record["layout"] == "safetensors" and record["dropped"] == []
    assert sorted(p.name for p in model.iterdir()) == sorted(
        n for n in os.listdir(base) if n in canonical.SERVED_FILES or n == "model.safetensors"
    )
    assert (model / "model.safetensors").stat().st_mode & 0o222 == 0, "model/ is read-only"
    # the no-op agent's canonical copy is written anew, yet it is the base model's evaluation
    assert eval_store.model_digest(model) == eval_store.model_digest(base)


def test_sharded_and_pickled_weights_are_served_as_one_safetensors_file(tmp_path, base):
    def shard(final):
        tensors = weights(final)
        (final / "model.safetensors").unlink()
        names = sorted(tensors)
        halves = {"a.safetensors": names[::2], "b.safetensors": names[1::2]}
        for file, part in halves.items():
            save_file({n: tensors[n] for n in part}, final / file, metadata={"format": "pt"})
        index = {"metadata": {}, "weight_map": {n: f for f, part in halves.items() for n in part}}
        (final / canonical.INDEX).write_text(json.dumps(index))

    def pickle(final):
        tensors = weights(final)
        (final / "model.safetensors").unlink()
        tensors["lm_head.weight"] = tensors["model.embed_tokens.weight"]  # a tied state dict
        torch.save(tensors, final / "pytorch_model.bin")

    for name, change, layout in (("sharded", shard, "safetensors"), ("bin", pickle, "pickled")):
        final = submitted(tmp_path / name, base, change)
        record = canonical.canonicalize(final, base, tmp_path / name / "model")
        assert_served_is_judged(final, record, tmp_path / name / "model")
        assert record["layout"].startswith(layout)


def test_an_adapter_is_merged_into_the_allowed_base_not_the_one_it_names(tmp_path, base):
    decoy = tmp_path / "instruct"
    build_tiny_qwen3(decoy, seed=99)  # the model the adapter says it belongs to
    torch.manual_seed(0)
    peft = get_peft_model(
        AutoModelForCausalLM.from_pretrained(base),
        LoraConfig(r=4, target_modules=["q_proj", "v_proj"], init_lora_weights=False),
    )
    final = tmp_path / "final_model"
    peft.save_pretrained(final)
    config = json.loads((final / "adapter_config.json").read_text())
    config["base_model_name_or_path"] = str(decoy)
    (final / "adapter_config.json").write_text(json.dumps(config))
    record = canonical_of(tmp_path, base, final)
    assert record["refused"] is None and record["layout"].startswith("lora")
    expected = {k: v.detach() for k, v in peft.merge_and_unload().state_dict().items()}
    served = served_by_transformers(tmp_path / "served" / "model")
    assert all(torch.equal(served[k], expected[k]) for k in expected)
    base_q = weights(base)["model.layers.0.self_attn.q_proj.weight"]
    assert not torch.equal(served["model.layers.0.self_attn.q_proj.weight"], base_q), "the adapter applied"


def _untied_head(final):
    tensors = weights(final)
    tensors["lm_head.weight"] = torch.randn_like(tensors["model.embed_tokens.weight"])
    save_file(tensors, final / "model.safetensors", metadata={"format": "pt"})


def _weights_named_in_config(final, target="sub/model.safetensors"):
    (final / target).parent.mkdir(parents=True, exist_ok=True)
    save_file({k: v * 2 for k, v in weights(final).items()}, final / target, metadata={"format": "pt"})
    config = json.loads((final / "config.json").read_text())
    config["transformers_weights"] = target
    (final / "config.json").write_text(json.dumps(config))


def _index_named_in_config(final):
    """An index in a subfolder (named by config.json) whose shards live elsewhere in the folder."""
    _weights_named_in_config(final, "elsewhere/x.safetensors")
    (final / "sub").mkdir()
    index = {"metadata": {}, "weight_map": {n: "../elsewhere/x.safetensors" for n in weights(final)}}
    (final / "sub" / "m.safetensors.index.json").write_text(json.dumps(index))
    config = json.loads((final / "config.json").read_text())
    config["transformers_weights"] = "sub/m.safetensors.index.json"
    (final / "config.json").write_text(json.dumps(config))


def _extra_tensor(final):
    tensors = weights(final)
    tensors["model.layers.0.mlp.secret_proj.weight"] = torch.ones(4, 4)
    save_file(tensors, final / "model.safetensors", metadata={"format": "pt"})


def _missing_tensor(final):
    tensors = weights(final)
    del tensors["model.layers.0.mlp.up_proj.weight"]
    save_file(tensors, final / "model.safetensors", metadata={"format": "pt"})


def _adapter_beside_weights(final):
    (final / "adapter_config.json").write_text(
        json.dumps({"peft_type": "LORA", "base_model_name_or_path": "x"})
    )


def _index_beside_single(final):
    index = {"metadata": {}, "weight_map": {n: "model.safetensors" for n in weights(final)}}
    (final / canonical.INDEX).write_text(json.dumps(index))


def _quantized(final):
    config = json.loads((final / "config.json").read_text())
    config["quantization_config"] = {"quant_method": "bitsandbytes", "load_in_8bit": True}
    (final / "config.json").write_text(json.dumps(config))


def _pickle_with_code(final):
    tensors = weights(final)
    (final / "model.safetensors").unlink()

    class Payload:
        def __reduce__(self):
            return (os.system, ("touch /tmp/ptb-pwned",))

    torch.save({**tensors, "evil": Payload()}, final / "pytorch_model.bin")


@pytest.mark.parametrize(
    "trick, reason",
    [
        (_untied_head, "lm_head unlike the embeddings"),
        (_weights_named_in_config, "config.json names its weights"),
        (_index_named_in_config, "config.json names its weights"),
        (_extra_tensor, "the base model does not have"),
        (_missing_tensor, "missing"),
        (_adapter_beside_weights, "adapter beside full weights"),
        (_index_beside_single, "transformers loads the file, vLLM the index"),
        (_quantized, "quantized"),
    ],
)
def test_a_folder_the_loaders_read_differently_is_refused_with_the_reason(tmp_path, base, trick, reason):
    final = submitted(tmp_path, base, trick)
    stale = tmp_path / "served" / "model"
    stale.mkdir(parents=True)  # an earlier attempt's model/ must not survive a refusal
    record = canonical_of(tmp_path, base, final)
    assert record["model"] is None and reason in record["refused"], record
    assert not stale.exists()
    assert not os.path.exists("/tmp/ptb-pwned")


def test_what_transformers_would_have_served_differs_in_every_refused_trick_that_loads(tmp_path, base):
    """The refusals are not pedantry: transformers 5 serves other weights than the folder's
    model.safetensors (what a judge reading only that file would have checked)."""
    for name, trick in (("untied", _untied_head), ("named", _weights_named_in_config)):
        final = submitted(tmp_path / name, base, trick)
        served = served_by_transformers(final)
        on_file = weights(final)
        differs = [k for k in on_file if k in served and not torch.equal(served[k], on_file[k].float())]
        differs += [] if "lm_head.weight" in on_file else ["lm_head.weight"]
        assert differs or not torch.equal(served["lm_head.weight"], served["model.embed_tokens.weight"]), name


def _zero_bytes(final):
    (final / "model.safetensors").write_bytes(b"")


def _config_not_json(final):
    (final / "config.json").write_text("")


def _no_weights(final):
    (final / "model.safetensors").unlink()


@pytest.mark.parametrize(
    "broken, reason",
    [
        (_pickle_with_code, "does not load as plain tensors"),
        (_zero_bytes, "not a safetensors file"),
        (_config_not_json, "config.json unreadable"),
        (_no_weights, "no model.safetensors"),
    ],
)
def test_a_folder_no_loader_reads_is_no_model_not_a_refusal(tmp_path, base, broken, reason):
    """The agent's failure to leave a model (scored as the base model), not a disqualification."""
    record = canonical_of(tmp_path, base, submitted(tmp_path, base, broken))
    assert record["model"] is None and record["refused"] is None, record
    assert record["reason"].startswith("final_model does not load") and reason in record["reason"]
    assert not os.path.exists("/tmp/ptb-pwned")


def test_no_model_leaves_no_model_folder(tmp_path, base):
    record = canonical_of(tmp_path, base, tmp_path / "final_model")
    assert record["model"] is None and record["refused"] is None and "no final_model" in record["reason"]
    link = tmp_path / "linked"
    link.symlink_to(base)
    assert canonical.canonicalize(link, base, tmp_path / "m2")["model"] is None
