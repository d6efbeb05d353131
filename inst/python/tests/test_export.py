"""Exports: the SavedModel's in-graph tokenization gives bertr's token ids (accents, CJK, emoji, unknown and long
words, special tokens in a text, cuts, pairs, windows; the embedded model's real vocabulary), and in a new process
without bertr or keras-bert its predictions equal predict()'s, for every task and reading setting."""

import copy
import json
import os
import random
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

tensorflow_text = pytest.importorskip("tensorflow_text", reason="tensorflow-text (an optional dependency) is missing")

from bertr import BertClassifier, BertrError, WordPieceTokenizer, embedded_model_dir
from bertr.export import TextEncoder
from bertr.testing import NEGATIVE, POSITIVE, toy_data

JOB = Path(__file__).with_name("exported_job.py")
TOLERANCE = 1e-5

EDGE_CASES = [
    "Café naïve ÉCOLE crème brûlée",  # accents (stripped when lower-casing)
    "北京欢迎你 and 東京 mixed 한국어 텍스트",  # CJK ideographs (one word each), Hangul (NFD)
    "I ❤️ it 😀 great😀 👍🏽 the best",  # emoji, alone and glued to a word; skin-tone modifier; variation selector
    "supercalifragilisticexpialidocious antidisestablishmentarianism xylophonist",  # split into pieces
    "a" * 101 + " " + "b" * 100 + " ok",  # over 100 characters: [UNK]; exactly 100: pieces
    "hello [SEP] world [MASK] x [unk] [CLS]y[PAD]",  # special tokens written in a text are themselves
    "tabs\tnew\nlines\r\nnbsp\u00a0ideographic\u3000space\u2028sep zero\u200bwidth soft\u00adhyphen \x07bell",
    "ﬁne Straße İstanbul ΟΔΟΣ Ａｂｃ ½ №",  # ligature, sharp s, dotted I, final sigma, fullwidth, fractions
    "punctuation!!! (brackets) [x] {y} <z> «quotes» “curly” — dash… ¿qué? ¡sí! $5 @me #tag 50%",
    "हिन्दी العربية ไทย עברית",  # combining marks (Mc/Mn) in Devanagari, Arabic, Thai, Hebrew
    "e\u0301 combining acute vs é precomposed; n\u0303",  # NFD
    "   leading and trailing spaces   ",
    "x",
    "",
]
ALPHABET = list("abcdefxyz ABCXYZ 0123456789 .,;!?'\"()[]-#$%&*+/<=>@^_`{|}~ ") + [
    *"éèêëàâäôöüçñßøåæœÉÀÖÜİıΣσςΩω",
    *"北京东西你好世界日本語中文",
    *"ㄱ한국어ひらがなカタカナ",
    *"😀👍🏽❤️🤗✨🇫🇷",
    "\u0301",
    "\u0308",
    "\u200b",
    "\u00a0",
    "\u3000",
    "\t",
    "\n",
    "\x00",
    "\x1f",
    "\ufffd",
    "\ue000",
    *map(chr, [0x2B81F, 0x2B820, 0x2B920, 0x2CEB0, 0x2A6E0, 0xF900, 0x2FA20]),  # the CJK ranges' edges
    "[SEP]",
    "[UNK]",
    "[MASK]",
    "##",
]


def fuzz_texts(n: int, seed: int = 7) -> list[str]:
    rng = random.Random(seed)
    texts = []
    for _ in range(n):
        size = rng.choice([1, 3, 8, 20, 60, 200])
        texts.append("".join(rng.choice(ALPHABET) for _ in range(size)))
    return texts


@pytest.fixture(scope="module")
def embedded_vocab():
    return embedded_model_dir() / "vocab.txt"


def ragged_rows(token) -> list[list[int]]:
    return [[int(i) for i in row if i] for row in np.asarray(token)]


@pytest.mark.parametrize("lower", [True, False])
def test_in_graph_ids_are_bertrs_on_edge_cases_and_fuzz(embedded_vocab, lower):
    tokenizer = WordPieceTokenizer(embedded_vocab, do_lower_case=lower)
    texts = EDGE_CASES + fuzz_texts(400)
    encoder = TextEncoder(tokenizer, seq_len=512)
    token, segment = encoder.encode(texts)
    expected = tokenizer.encode(texts, 512)
    np.testing.assert_array_equal(token.to_tensor(shape=[len(texts), 512]).numpy(), expected.token)
    assert all(v == 0 for row in segment.to_list() for v in row)
    # the cases exercise what they name: [UNK] for emoji and the 101-letter word, pieces, the special tokens
    rows = ragged_rows(expected.token)
    unk, sep = tokenizer.vocab["[UNK]"], tokenizer.vocab["[SEP]"]
    assert unk in rows[2] and unk in rows[4] and rows[5].count(sep) == 2 and len(rows[3]) > 5


@pytest.mark.parametrize("truncation", ["head", "tail", "head_tail"])
@pytest.mark.parametrize("seq_len", [5, 16, 33])
def test_in_graph_cuts_are_bertrs(embedded_vocab, truncation, seq_len):
    tokenizer = WordPieceTokenizer(embedded_vocab)
    texts = EDGE_CASES[:-1] + fuzz_texts(150, seed=seq_len)
    for head_tokens in [None, 2]:
        encoder = TextEncoder(tokenizer, seq_len, truncation, head_tokens)
        token, _ = encoder.encode(texts)
        expected = tokenizer.encode(texts, seq_len, truncation=truncation, head_tokens=head_tokens)
        np.testing.assert_array_equal(token.to_tensor(shape=[len(texts), seq_len]).numpy(), expected.token)


@pytest.mark.parametrize("truncation", ["head", "tail"])
@pytest.mark.parametrize("seq_len", [6, 12, 40])
def test_in_graph_pairs_are_cut_longest_first_as_bertr_cuts_them(embedded_vocab, truncation, seq_len):
    tokenizer = WordPieceTokenizer(embedded_vocab)
    first = fuzz_texts(200, seed=1) + ["a b c d e f g h", "a", "a b c", ""]
    second = fuzz_texts(200, seed=2) + ["x", "x y z w v u t s", "x y z", ""]
    encoder = TextEncoder(tokenizer, seq_len, truncation)
    token, segment = encoder.encode(first, second)
    expected = tokenizer.encode(first, seq_len, pairs=second, truncation=truncation)
    shape = [len(first), seq_len]
    np.testing.assert_array_equal(token.to_tensor(shape=shape).numpy(), expected.token)
    np.testing.assert_array_equal(segment.to_tensor(shape=shape).numpy(), expected.segment)


@pytest.mark.parametrize(("seq_len", "stride"), [(8, None), (8, 1), (10, 3), (16, 14)])
def test_in_graph_windows_are_bertrs(embedded_vocab, seq_len, stride):
    tokenizer = WordPieceTokenizer(embedded_vocab)
    texts = EDGE_CASES + fuzz_texts(60, seed=5)
    windows, owner = TextEncoder(tokenizer, seq_len, stride=stride).windows(texts)
    expected, expected_owner = tokenizer.encode_windows(texts, seq_len, stride)
    np.testing.assert_array_equal(windows.to_tensor(shape=[len(expected), seq_len]).numpy(), expected.token)
    np.testing.assert_array_equal(owner.numpy(), expected_owner)


# -- predictions in a process without bertr ------------------------------------------------------------------
PROBE = POSITIVE + NEGATIVE + ["coffee " * 40 + "great", "Café CRÈME 😀 [SEP] tea", "北京 tea"]


def tiny(tiny_hf, **settings):
    base = {"pretrained": str(tiny_hf), "seq_len": 16, "batch_size": 8, "epochs": 1, "learning_rate": 1e-2, "seed": 1}
    return BertClassifier(**{**base, **settings})


def variant(model, **settings):
    """The same fitted network read with other settings (long_text, truncation, ...)."""
    changed = copy.copy(model)
    return changed.set_params(**settings)


def run_exported(jobs: list[dict]) -> dict:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "TF_USE_LEGACY_KERAS")}
    done = subprocess.run(
        [sys.executable, str(JOB)],
        input=json.dumps({"exports": jobs}),
        capture_output=True,
        text=True,
        env=env,
        cwd=str(Path(jobs[0]["path"]).parent),
        timeout=600,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


@pytest.fixture(scope="module")
def models(tiny_hf):
    texts, labels = toy_data()
    binary = tiny(tiny_hf, truncation="head_tail").fit(texts, labels, classes=["no", "yes"])
    classes = ["bad", "ok", "good"] * (len(texts) // 3) + ["bad"] * (len(texts) % 3)
    multiclass = tiny(tiny_hf).fit(texts, classes)
    multilabel = tiny(tiny_hf).fit(texts, np.column_stack([np.asarray(labels) == "yes", np.arange(len(texts)) % 2]))
    soft = tiny(tiny_hf, task="soft").fit(texts, np.linspace(0, 1, len(texts)))
    regression = tiny(tiny_hf, task="regression").fit(texts, np.linspace(-50, 1000, len(texts)))
    pairs = tiny(tiny_hf, truncation="tail").fit(texts, labels, pairs=list(reversed(texts)))
    return {
        "binary head_tail, calibrated, threshold 0.3": binary.with_temperature(1.7).with_threshold(0.3),
        "binary in windows, max": variant(binary, long_text="window", window_pooling="max", stride=3),
        "multiclass in windows, max": variant(multiclass, long_text="window", window_pooling="max"),
        "multiclass in windows, mean, calibrated": variant(multiclass, long_text="window").with_temperature(0.6),
        "multilabel, two thresholds": multilabel.with_threshold([0.4, 0.6]),
        "soft": soft,
        "regression in windows": variant(regression, long_text="window", stride=5),
        "pairs, tail": pairs,
    }


def test_exports_predict_as_predict_in_a_process_without_bertr(models, tmp_path):
    jobs, expected = [], []
    for i, (name, model) in enumerate(models.items()):
        pairs = list(reversed(PROBE)) if model.paired_ else None
        path = model.export(str(tmp_path / f"export-{i}"))
        jobs.append({"path": path, "texts": PROBE, "pairs": pairs})
        encoded = model.encode(PROBE, pairs)
        expected.append((name, model, model.predict(PROBE, pairs), encoded, pairs))
    out = run_exported(jobs)
    assert "bertr" not in out["modules"] and "keras_bert" not in out["modules"]
    for (name, model, decided, encoded, pairs), result in zip(expected, out["results"], strict=True):
        served = result["serve"]
        if model.task_.name == "regression":
            assert set(served) == {"prediction"}
            np.testing.assert_allclose(served["prediction"], decided, rtol=TOLERANCE, atol=TOLERANCE, err_msg=name)
        else:
            proba = model.predict_proba(PROBE, pairs)
            np.testing.assert_allclose(served["probabilities"], proba, atol=TOLERANCE, err_msg=name)
            assert [str(v) for v in np.asarray(served["prediction"]).ravel()] == [
                str(v) for v in np.asarray(decided).ravel()
            ], name
        np.testing.assert_array_equal(result["tokenize"]["token"], encoded.token, err_msg=name)
        np.testing.assert_array_equal(result["tokenize"]["segment"], encoded.segment, err_msg=name)


def test_the_directory_holds_the_model_card_and_a_checked_manifest(models, tmp_path):
    model = models["binary head_tail, calibrated, threshold 0.3"]
    path = Path(model.export(str(tmp_path / "export"), columns={"text": "review", "label": "score"}))
    card = json.loads((path / "model_card.json").read_text())
    assert card["task"] == "binary" and card["labels"] == ["no", "yes"] and card["columns"]["text"] == "review"
    assert card["threshold"] == pytest.approx(0.3) and card["temperature"] == pytest.approx(1.7)
    assert card["input"]["truncation"] == "head_tail" and card["input"]["seq_len"] == 16
    assert card["export"]["signatures"]["serving_default"]["inputs"] == ["texts"]
    assert card["versions"]["tensorflow"] and card["export"]["tensorflow_text"] == tensorflow_text.__version__
    assert "val_auc" in card["training"]["metrics"]
    manifest = json.loads((path / "manifest.json").read_text())
    assert {"saved_model.pb", "model_card.json"} <= set(manifest["files"])
    assert any(name.startswith("variables/") for name in manifest["files"])  # nested files are listed too
    assert manifest["format"] == "bertr export"


def test_an_existing_directory_is_kept_unless_overwrite(models, tmp_path):
    model = models["soft"]
    target = tmp_path / "taken"
    target.mkdir()
    (target / "keep.txt").write_text("mine")
    with pytest.raises(BertrError, match="already exists"):
        model.export(str(target))
    assert (target / "keep.txt").read_text() == "mine" and [p.name for p in tmp_path.iterdir()] == ["taken"]
    model.export(str(target), overwrite=True)
    assert (target / "saved_model.pb").exists() and not (target / "keep.txt").exists()


def test_without_tensorflow_text_the_error_names_it(models, tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "tensorflow_text", None)  # an import of it now fails
    with pytest.raises(BertrError, match="needs the Python package tensorflow-text"):
        models["soft"].export(str(tmp_path / "export"))
    assert not (tmp_path / "export").exists()


def test_an_unfitted_model_cannot_be_exported(tmp_path):
    with pytest.raises(BertrError, match="not been fitted"):
        BertClassifier().export(str(tmp_path / "export"))


def test_embedded_model_export_predicts_as_predict(tmp_path):
    """Real weights and the real vocabulary: a short fine-tuning run, exported, loaded without bertr."""
    texts, labels = toy_data(2)
    clf = BertClassifier(seq_len=32, batch_size=8, epochs=1, validation_split=0, seed=1).fit(texts, labels)
    probe = ["this coffee is excellent", "Stale tea. A waste of money!", *EDGE_CASES[:-1]]
    path = clf.export(str(tmp_path / "embedded"))
    result = run_exported([{"path": path, "texts": probe, "pairs": None}])["results"][0]
    np.testing.assert_allclose(result["serve"]["probabilities"], clf.predict_proba(probe), atol=TOLERANCE)
    assert result["serve"]["prediction"] == [str(v) for v in clf.predict(probe)]
    np.testing.assert_array_equal(result["tokenize"]["token"], clf.encode(probe).token)


def test_the_command_line_exports_a_saved_model(models, tmp_path, capsys):
    from bertr import cli

    saved = models["soft"].save(str(tmp_path / "saved"), extra={"text": "review", "label": "share"})
    assert cli.main(["export", saved, str(tmp_path / "out")]) == cli.EXIT_OK
    assert "exported to" in capsys.readouterr().out
    card = json.loads((tmp_path / "out" / "model_card.json").read_text())
    assert card["task"] == "soft" and card["columns"]["text"] == "review" and card["columns"]["label"] == ["share"]
    assert cli.main(["export", saved, str(tmp_path / "out")]) == cli.EXIT_USAGE
    assert "already exists" in capsys.readouterr().err
    assert cli.main(["export", str(tmp_path / "nowhere"), str(tmp_path / "out2")]) == cli.EXIT_FILE
    assert not (tmp_path / "out2").exists()
