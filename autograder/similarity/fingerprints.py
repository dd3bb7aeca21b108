"""Fingerprints of Python code that survive renaming, comments, whitespace and reordering.

A cell's code becomes a sequence of normalised tokens, then a set of winnowed k-gram hashes
(Schleimer, Wilkerson and Aiken, "Winnowing: local algorithms for document fingerprinting",
SIGMOD 2003, the method behind MOSS):

1. ``tokenize`` the code; comments, blank lines and indentation disappear, and so do docstrings
   (a statement that is only a string);
2. every identifier becomes ``V``, every number ``N`` and every string ``S``, so renaming a
   variable changes nothing; kept as written are keywords, built-ins, attribute names
   (``x.reshape``) and the names the starter code defines (the exercise's functions, ``np``),
   which a student cannot rename: the calls a solution makes still count;
3. the statements of every block are put in a canonical order (sorted by their normalised text),
   so that swapping two independent statements changes nothing either;
4. each run of ``k`` consecutive tokens is hashed, and in every window of ``w`` consecutive hashes
   the smallest is kept (winnowing): any passage of at least ``k + w - 1`` tokens that two
   submissions share is guaranteed to give them a common fingerprint, with about ``2 / (w + 1)``
   of all hashes kept.
"""

from __future__ import annotations

import ast
import bisect
import builtins
import hashlib
import io
import keyword
import re
import tokenize
from dataclasses import dataclass, field

from ..sandbox.policy import strip_magics

K = 10  # tokens per k-gram: shorter passages ("V = V . shape ;") are common to every solution
WINDOW = 4  # hashes per winnowing window: shared passages of K + WINDOW - 1 tokens are always found

_BUILTINS = frozenset(dir(builtins))
_SKIP = {tokenize.COMMENT, tokenize.NL, tokenize.NEWLINE, tokenize.INDENT, tokenize.DEDENT, tokenize.ENCODING, tokenize.ENDMARKER}
_STRING_TYPES = {tokenize.STRING} | {getattr(tokenize, n) for n in ("FSTRING_START", "FSTRING_MIDDLE", "FSTRING_END") if hasattr(tokenize, n)}


@dataclass(frozen=True)
class Token:
    text: str  # the normalised text: "V", "N", "S", a keyword, an operator or a kept name
    line: int  # line in the cell, from 1
    start: tuple[int, int] = (0, 0)  # (line, column) of the original token, to place it in the AST


@dataclass
class Fingerprint:
    hash: int
    cell: int  # index of the cell in the submission's list of code cells
    position: int  # index of the k-gram's first token in the cell's canonical token sequence


@dataclass
class CodeCell:
    """One cell of code the grader runs, and its canonical tokens."""

    label: str  # e.g. "cell 4 (convolve2d)"
    source: str
    tokens: list[Token] = field(default_factory=list)

    def lines_of(self, first: int, last: int) -> set[int]:
        """Source lines covered by canonical tokens ``first`` .. ``last`` (inclusive)."""
        return {t.line for t in self.tokens[max(first, 0) : last + 1]}


# -- tokens -----------------------------------------------------------------------------------------


def _raw_tokens(code: str) -> list[tokenize.TokenInfo] | None:
    try:
        return list(tokenize.generate_tokens(io.StringIO(code).readline))
    except (tokenize.TokenError, IndentationError, SyntaxError):
        return None


_FALLBACK = re.compile(r"(?P<string>[rbuRBUfF]*(\"\"\"[\s\S]*?\"\"\"|'''[\s\S]*?'''|\"[^\"\n]*\"|'[^'\n]*'))|(?P<comment>#[^\n]*)|(?P<number>\d[\w.]*)|(?P<name>[^\W\d]\w*)|(?P<op>\*\*=?|//=?|->|[-+*/%&|^<>=!:@]=|<<|>>|\S)")


def _fallback_tokens(code: str, keep: frozenset[str]) -> list[Token]:
    """A rough lexer for code that ``tokenize`` rejects (unbalanced brackets, bad indentation)."""
    out = []
    previous = ""
    for match in _FALLBACK.finditer(code):
        line = code.count("\n", 0, match.start()) + 1
        kind = match.lastgroup
        text = match.group()
        if kind == "comment":
            continue
        if kind == "string":
            norm = "S"
        elif kind == "number":
            norm = "N"
        elif kind == "name":
            norm = text if keyword.iskeyword(text) or text in _BUILTINS or text in keep or previous == "." else "V"
        else:
            norm = text
        if norm != ";":
            out.append(Token(norm, line))
        previous = text
    return out


def _normalise(raw: list[tokenize.TokenInfo], keep: frozenset[str], *, newlines: bool = False) -> list[Token]:
    """Normalised tokens; with ``newlines``, each logical line ends with ``;`` (for code that
    tokenizes but does not parse, whose statements cannot be reordered)."""
    out: list[Token] = []
    previous = ""  # the previous token as written, to tell attribute names (after ".") apart
    for tok in raw:
        if newlines and tok.type == tokenize.NEWLINE and out and out[-1].text != ";":
            out.append(Token(";", tok.start[0], tok.start))
        if tok.type in _SKIP:
            continue
        if tok.type == tokenize.NAME:
            text = tok.string if keyword.iskeyword(tok.string) or tok.string in _BUILTINS or tok.string in keep or previous == "." else "V"
        elif tok.type == tokenize.NUMBER:
            text = "N"
        elif tok.type in _STRING_TYPES:
            text = "S"
            if out and out[-1].text == "S":  # adjacent strings ("a" "b", the parts of an f-string) are one
                previous = tok.string
                continue
        elif tok.string == ";":  # statement separators are added per statement
            previous = ";"
            if newlines and out and out[-1].text != ";":
                out.append(Token(";", tok.start[0], tok.start))
            continue
        else:
            text = tok.string
        out.append(Token(text, tok.start[0], tok.start))
        previous = tok.string
    return out


# -- canonical statement order ---------------------------------------------------------------------


def _blocks(stmt: ast.stmt) -> list[list[ast.stmt]]:
    blocks = [getattr(stmt, name) for name in ("body", "orelse", "finalbody") if isinstance(getattr(stmt, name, None), list)]
    blocks += [h.body for h in getattr(stmt, "handlers", [])]
    blocks += [c.body for c in getattr(stmt, "cases", [])]
    return [b for b in blocks if b and isinstance(b[0], ast.stmt)]


def _is_docstring(stmt: ast.stmt) -> bool:
    return isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Constant) and isinstance(stmt.value.value, str)


def _canonical(tokens: list[Token], tree: ast.Module, code: str) -> list[Token]:
    """The tokens with the statements of every block sorted by their normalised text, each
    statement's own tokens followed by ``;`` and then by its blocks."""
    starts = [t.start for t in tokens]
    owner: list[ast.stmt | None] = [None] * len(tokens)
    lines = code.splitlines()

    def position(line: int, byte_col: int) -> tuple[int, int]:
        """``ast`` counts columns in UTF-8 bytes, ``tokenize`` in characters."""
        text = lines[line - 1] if 0 < line <= len(lines) else ""
        return line, len(text.encode()[:byte_col].decode(errors="ignore"))

    def claim(stmts):  # deeper statements claim their tokens after (over) their parents
        for stmt in stmts:
            first = position(stmt.lineno, stmt.col_offset)
            for deco in getattr(stmt, "decorator_list", []):
                first = min(first, position(deco.lineno, max(deco.col_offset - 1, 0)))
            lo = bisect.bisect_left(starts, first)
            hi = bisect.bisect_left(starts, position(stmt.end_lineno, stmt.end_col_offset))
            for i in range(lo, hi):
                owner[i] = stmt
            for block in _blocks(stmt):
                claim(block)

    claim(tree.body)
    own: dict[int, list[Token]] = {}
    for token, stmt in zip(tokens, owner):
        if stmt is not None:
            own.setdefault(id(stmt), []).append(token)

    def emit(stmts) -> list[Token]:
        pieces = []
        for stmt in stmts:
            if _is_docstring(stmt):
                continue
            head = own.get(id(stmt), [])
            piece = head + [Token(";", head[-1].line if head else stmt.lineno)]
            for block in _blocks(stmt):
                piece += emit(block)
            pieces.append(piece)
        pieces.sort(key=lambda piece: [t.text for t in piece])
        return [t for piece in pieces for t in piece]

    return emit(tree.body)


def canonical_tokens(source: str, keep: frozenset[str] = frozenset()) -> list[Token]:
    """The normalised tokens of one cell, statements in canonical order (see the module doc);
    the identifiers in ``keep`` are kept as written."""
    code, _ = strip_magics(source)
    raw = _raw_tokens(code)
    if raw is None:
        return _fallback_tokens(code, keep)
    tokens = _normalise(raw, keep)
    try:
        tree = ast.parse(code)
    except SyntaxError:  # tokenizes but does not parse: keep the written order
        return _normalise(raw, keep, newlines=True)
    return _canonical(tokens, tree, code)


# -- k-grams and winnowing --------------------------------------------------------------------------


def _hash(texts: list[str]) -> int:
    return int.from_bytes(hashlib.blake2b("\x1f".join(texts).encode(), digest_size=8).digest(), "big")


def kgram_hashes(tokens: list[Token], k: int = K) -> list[int]:
    texts = [t.text for t in tokens]
    return [_hash(texts[i : i + k]) for i in range(len(texts) - k + 1)]


def winnow(hashes: list[int], window: int = WINDOW) -> list[int]:
    """Positions of the hashes kept by winnowing: the minimum of every window (the rightmost one
    on ties), each position once."""
    if not hashes:
        return []
    if len(hashes) <= window:
        low = min(hashes)
        return [max(i for i, h in enumerate(hashes) if h == low)]
    kept: list[int] = []
    for start in range(len(hashes) - window + 1):
        chunk = hashes[start : start + window]
        low = min(chunk)
        position = start + max(i for i, h in enumerate(chunk) if h == low)
        if not kept or kept[-1] != position:
            kept.append(position)
    return kept


def fingerprints(cells: list[CodeCell], *, k: int = K, window: int = WINDOW, exclude: frozenset[int] | set[int] = frozenset()) -> list[Fingerprint]:
    """Winnowed fingerprints of ``cells`` (tokens must be filled in), leaving out any hash in
    ``exclude`` (the starter code's k-grams)."""
    out = []
    for index, cell in enumerate(cells):
        hashes = kgram_hashes(cell.tokens, k)
        for position in winnow(hashes, window):
            if hashes[position] not in exclude:
                out.append(Fingerprint(hashes[position], index, position))
    return out


def all_kgrams(sources: list[str], k: int = K, keep: frozenset[str] = frozenset()) -> set[int]:
    """Every k-gram hash of some code (used for the starter code, which is excluded entirely)."""
    found: set[int] = set()
    for source in sources:
        found.update(kgram_hashes(canonical_tokens(source, keep), k))
    return found
