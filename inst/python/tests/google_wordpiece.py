"""Google's reference BERT tokenization (BasicTokenizer + WordpieceTokenizer, as in google-research/bert's
tokenization.py), re-written here in plain Python as the oracle for bertr's fast tokenizer."""

import unicodedata


def _is_whitespace(ch):
    if ch in (" ", "\t", "\n", "\r"):
        return True
    return unicodedata.category(ch) == "Zs"


def _is_control(ch):
    if ch in ("\t", "\n", "\r"):
        return False
    return unicodedata.category(ch) in ("Cc", "Cf")


def _is_punctuation(ch):
    cp = ord(ch)
    if 33 <= cp <= 47 or 58 <= cp <= 64 or 91 <= cp <= 96 or 123 <= cp <= 126:
        return True
    return unicodedata.category(ch).startswith("P")


def _is_chinese_char(cp):
    return (
        0x4E00 <= cp <= 0x9FFF
        or 0x3400 <= cp <= 0x4DBF
        or 0x20000 <= cp <= 0x2A6DF
        or 0x2A700 <= cp <= 0x2B73F
        or 0x2B740 <= cp <= 0x2B81F
        or 0x2B820 <= cp <= 0x2CEAF
        or 0xF900 <= cp <= 0xFAFF
        or 0x2F800 <= cp <= 0x2FA1F
    )


class GoogleTokenizer:
    def __init__(self, vocab, do_lower_case=True, max_input_chars_per_word=100):
        self.vocab = vocab
        self.do_lower_case = do_lower_case
        self.max_chars = max_input_chars_per_word

    def _clean(self, text):
        out = []
        for ch in text:
            cp = ord(ch)
            if cp == 0 or cp == 0xFFFD or _is_control(ch):
                continue
            out.append(" " if _is_whitespace(ch) else ch)
        return "".join(out)

    def _basic(self, text):
        text = self._clean(text)
        text = "".join(f" {ch} " if _is_chinese_char(ord(ch)) else ch for ch in text)
        tokens = []
        for token in text.strip().split():
            if self.do_lower_case:
                token = token.lower()
                token = "".join(ch for ch in unicodedata.normalize("NFD", token) if unicodedata.category(ch) != "Mn")
            current = []
            for ch in token:
                if _is_punctuation(ch):
                    if current:
                        tokens.append("".join(current))
                        current = []
                    tokens.append(ch)
                else:
                    current.append(ch)
            if current:
                tokens.append("".join(current))
        return tokens

    def _wordpiece(self, token):
        if len(token) > self.max_chars:
            return ["[UNK]"]
        pieces, start = [], 0
        while start < len(token):
            end, found = len(token), None
            while start < end:
                piece = token[start:end] if start == 0 else "##" + token[start:end]
                if piece in self.vocab:
                    found = piece
                    break
                end -= 1
            if found is None:
                return ["[UNK]"]
            pieces.append(found)
            start = end
        return pieces

    def tokenize(self, text):
        return [piece for token in self._basic(text) for piece in self._wordpiece(token)]
