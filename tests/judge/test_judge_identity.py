"""model_identity: same architecture and vocabulary as the base; weights closest to the base."""

import shutil

from judge_helpers import check

from ptb.judge import model_identity


def identity(models, submitted, disallowed=("instruct",)):
    return model_identity.check(models[submitted], models["base"], {f"m/{d}": models[d] for d in disallowed})


def test_finetuned_model_passes(models):
    result = identity(models, "finetuned")
    assert result["passed"], result
    distances = result["evidence"]["distances"]
    assert distances["base"] < 0.05 < distances["m/instruct"]
    assert result["evidence"]["vocabulary"]["status"] == "same"


def test_base_model_itself_passes(models):
    result = identity(models, "base")
    assert result["passed"] and result["evidence"]["distances"]["base"] == 0


def test_substituted_instruct_model_fails(models):
    result = identity(models, "substitute")
    assert not result["passed"]
    assert any("closer to a disallowed model: m/instruct" in p for p in result["evidence"]["problems"])


def test_random_model_fails_even_without_disallowed_models(models):
    result = identity(models, "foreign", disallowed=())
    assert not result["passed"]
    assert result["evidence"]["distances"]["base"] > 0.5


def test_other_vocabulary_fails(models):
    result = identity(models, "other_vocab")
    assert not result["passed"]
    assert result["evidence"]["vocabulary"]["status"] == "different"


def test_added_tokens_are_allowed(models, tmp_path):
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(models["finetuned"])
    tokenizer.add_special_tokens({"additional_special_tokens": ["<|tool|>"]})
    model = AutoModelForCausalLM.from_pretrained(models["finetuned"])
    model.resize_token_embeddings(len(tokenizer))
    model.save_pretrained(tmp_path / "grown")
    tokenizer.save_pretrained(tmp_path / "grown")
    result = model_identity.check(tmp_path / "grown", models["base"], {"m/instruct": models["instruct"]})
    assert result["passed"], result
    assert result["evidence"]["vocabulary"]["status"] == "extended"


def test_architecture_change_fails(models, tmp_path):
    import json

    shutil.copytree(models["finetuned"], tmp_path / "m")
    config = json.loads((tmp_path / "m" / "config.json").read_text())
    config["model_type"] = "llama"
    (tmp_path / "m" / "config.json").write_text(json.dumps(config))
    result = model_identity.check(tmp_path / "m", models["base"], {})
    assert not result["passed"] and "model_type" in result["evidence"]["architecture_diff"]


def test_missing_model_is_not_this_checks_failure(tmp_path, models):
    result = model_identity.check(tmp_path / "absent", models["base"], {})
    assert result["passed"] and result["evidence"]["model"] == "no model"


def test_in_review_substitute_disqualifies(tmp_path, models):
    from judge_helpers import Run

    verdict = Run(tmp_path, models, submit="substitute").review()
    assert not check(verdict, "model_identity")["passed"]
    assert verdict["outcome"] == "disqualified"


def test_unusable_disallowed_models_are_named_in_evidence(models, tmp_path):
    result = model_identity.check(
        models["finetuned"],
        models["base"],
        {"gone": tmp_path / "gone", "alias": models["base"], "m/instruct": models["instruct"]},
    )
    assert result["passed"]
    assert result["evidence"]["skipped"] == {
        "gone": "no config.json",
        "alias": "same folder as the base model",
    }
