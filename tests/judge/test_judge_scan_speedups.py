"""The contamination scan's shortcuts lose nothing: the word prefilter (a window is hashed as a
gram only when each of its words may be a test word), the 1 MB blocks a file is hashed in, the
one read of a small file, the hard-link dedupe and the blob gate (a candidate shorter than a
blob is skipped). Each case hides a test item where a shortcut could miss it."""

from __future__ import annotations

import base64
import os
import random
from pathlib import Path

from ptb.judge import contamination, grams, text_forms

ITEM = "Natalia sold clips to 48 of her friends in April, and then she sold half as many clips in May."
OTHER = "Weng earns 12 dollars an hour for babysitting and yesterday she did 50 minutes of babysitting."


def scan_items(chunks: list[bytes]) -> set[int]:
    index = contamination.TestIndex([[ITEM], [OTHER]], 13, 3)
    return index.items_with(index.scan(chunks))


def binary(size: int, seed: int = 0) -> bytes:
    """Random bytes: words of every length, nearly none a test word."""
    return random.Random(seed).randbytes(size)


def check(tmp_path, skip=()) -> dict:
    return contamination.check(
        {"job": tmp_path}, [[ITEM], [OTHER]], skip=skip, n=13, tolerance=0, item_share=0.5, min_words=3
    )


def test_word_hashes_match_for_the_same_word_wherever_it_stands():
    data = grams.normalised(b"\x00Apples,apples  APPLES\xff\x01apple")
    starts, ends = grams.word_spans(data)
    hashes = grams.word_hashes(data, starts, ends, 6)
    assert len(hashes) == 4  # \xff is part of a UTF-8 sequence: "apples\xff" is one word
    assert hashes[0] == hashes[1] != hashes[3]
    assert hashes[2] == grams.TOO_LONG  # 7 bytes, over the longest of 6


def test_an_item_after_megabytes_of_binary_at_the_very_end_of_a_large_file_is_found(tmp_path):
    # past the one-read size and many 1 MB blocks, its words cut by the block boundary as it falls
    (tmp_path / "model.bin").write_bytes(
        binary(contamination.WHOLE_FILE + 3 * contamination.SCAN_BLOCK - 7) + ITEM.encode()
    )
    result = check(tmp_path)
    assert result["evidence"]["copied_items"] == 1, result


def test_an_item_whose_words_are_separated_by_binary_junk_is_found():
    junk = b"\x00\x01\x02\xfe"[:3]
    assert scan_items([binary(5000), junk.join(w.encode() for w in ITEM.split()), binary(5000, 1)]) == {0}


def test_a_word_cut_at_every_block_boundary_is_one_word(monkeypatch):
    text = ITEM.encode()
    monkeypatch.setattr(contamination, "SCAN_BLOCK", 5)  # every word crosses a boundary
    assert scan_items([text]) == {0}
    assert scan_items([text[:3], text[3:]]) == {0}
    # a chunk a word (pickled strings arrive so): the carried words must not be cut short
    assert scan_items([word.encode() + b" " for word in ITEM.split()]) == {0}


def test_a_word_longer_than_any_test_word_neither_matches_nor_hides_what_follows(monkeypatch):
    monkeypatch.setattr(contamination, "SCAN_BLOCK", 64)
    # "April" glued to 300 letters across several blocks is no test word: every 13-gram holds it
    glued = ITEM.replace("April", "April" + "l" * 300).encode()
    assert scan_items([glued]) == set()
    assert scan_items([b"x" * 1000 + b" " + ITEM.encode()]) == {0}


def test_a_base64_item_split_over_lines_in_a_text_file_passes_the_blob_gate(tmp_path):
    blob = base64.b64encode(ITEM.encode() * 2)
    lines = b"\n".join(blob[i : i + 20] for i in range(0, len(blob), 20))  # each piece under 48
    (tmp_path / "notes.txt").write_bytes(b"import os\n" + b"x_identifier_of_20ch = 1\n" * 50 + lines + b"\n")
    assert check(tmp_path)["evidence"]["copied_items"] == 1


def test_a_hard_link_is_read_under_either_name_when_the_other_is_handed_out(tmp_path):
    for handed, copy in (("a_handed.txt", "b_copy.txt"), ("z_handed.txt", "b_copy.txt")):
        folder = tmp_path / handed
        folder.mkdir()
        (folder / handed).write_text(ITEM)
        os.link(folder / handed, folder / copy)
        result = contamination.check(
            {"job": folder},
            [[ITEM], [OTHER]],
            skip=[f"job/{handed}"],
            n=13,
            tolerance=0,
            item_share=0.5,
            min_words=3,
        )
        assert result["evidence"]["copied_items"] == 1, (handed, result["evidence"])
        assert [f["file"] for f in result["evidence"]["matching_files"]] == [f"job/{copy}"]


def test_binary_is_not_hashed_word_by_word_unless_test_words_may_stand_in_a_row(monkeypatch):
    hashed = []
    real = contamination.word_hashes
    monkeypatch.setattr(
        contamination,
        "word_hashes",
        lambda data, starts, ends, longest: hashed.append(len(starts)) or real(data, starts, ends, longest),
    )
    index = contamination.TestIndex([[ITEM], [OTHER]], 13, 3)
    hashed.clear()  # the test texts' words
    assert index.items_with(index.scan([binary(1 << 20)])) == set()
    assert 0 < max(hashed) <= 12  # the words carried to the next chunk only
    hashed.clear()
    assert index.items_with(index.scan([binary(5000) + ITEM.upper().encode() + binary(5000, 1)])) == {0}
    assert max(hashed) > 1000


def test_the_blob_pattern_over_byte_classes_finds_what_the_plain_pattern_finds():
    rng = random.Random(3)
    pieces = [base64.b64encode(rng.randbytes(rng.randrange(1, 60))) for _ in range(300)]
    pieces += [b"x_identifier_of_twenty", b"\n", b"', '", b"==", b"\x00", b"  ", b"\xc3\xa9", b"=\n"]
    text = b"".join(rng.choice(pieces) for _ in range(5000))
    text += Path(text_forms.__file__).read_bytes()  # code, as a venv holds
    plain = [m.span() for m in text_forms.BLOB.finditer(text)]
    mapped = [m.span() for m in text_forms.BLOB_MAPPED.finditer(text.translate(text_forms.BLOB_CLASSES))]
    assert plain == mapped and len(plain) > 100
