"""OData ``$filter`` and ``$orderby`` for the Azure AI Search stand-in.

A tokenizer and recursive-descent parser for the part of the documented
syntax (learn.microsoft.com, "OData language overview for $filter, $orderby
and $select in Azure AI Search") the stand-in evaluates:

- comparisons ``eq ne gt lt ge le`` between a field (or a lambda's range
  variable) and a literal, on either side;
- ``and``, ``or``, ``not`` with the documented precedence (``not`` binds
  tightest, then ``and``, then ``or``) and parentheses;
- literals: strings in single quotes with ``''`` for a quote, integers and
  decimals, ``true``/``false``, ``null`` and unquoted ``DateTimeOffset``
  literals such as ``2024-05-01T00:00:00Z``;
- a boolean field on its own as a condition;
- ``search.in(field, 'a,b', ',')`` (delimiters default to space and comma);
- ``field/any()``, ``field/any(t: ...)`` and ``field/all(t: ...)`` on
  ``Collection(Edm.String)`` fields.

Errors carry the service's wording (seen in its 400 responses) where it is
known: ``Syntax error at position N in '...'``, ``Could not find a property
named 'x' on type 'search.document'``, ``'x' is not a filterable field...``.
The caller adds the ``Invalid expression: `` prefix and ``Parameter name:``
suffix the service puts around them.
"""

from __future__ import annotations

import operator
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

STRING = "Edm.String"
INT32 = "Edm.Int32"
INT64 = "Edm.Int64"
DOUBLE = "Edm.Double"
BOOLEAN = "Edm.Boolean"
DATETIME = "Edm.DateTimeOffset"
STRING_COLLECTION = "Collection(Edm.String)"
NULL = "null"

_NUMERIC = frozenset({INT32, INT64, DOUBLE})
_INT32_MAX = 2**31 - 1

Scalar = str | int | float | bool | datetime | None


class ODataError(ValueError):
    """An expression the service refuses; the text is the service's message body."""


class FieldLike(Protocol):
    """What the parser needs to know about an index field."""

    @property
    def type(self) -> str: ...

    @property
    def filterable(self) -> bool: ...

    @property
    def sortable(self) -> bool: ...


Schema = Mapping[str, FieldLike]
Document = Mapping[str, Any]
Env = Mapping[str, Any]


# -- tokens -------------------------------------------------------------------


@dataclass(frozen=True)
class _Token:
    kind: str  # name, string, number, datetime, punct, end
    text: str
    pos: int
    value: Scalar = None


_DATETIME = re.compile(
    r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:\d{2})",
)
_NUMBER = re.compile(r"-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?")
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*")
_PUNCT = "(),:/"


def _tokenize(text: str) -> list[_Token]:
    tokens: list[_Token] = []
    i = 0
    while i < len(text):
        char = text[i]
        if char.isspace():
            i += 1
        elif char == "'":
            start, i, chars = i, i + 1, []
            while True:
                if i >= len(text):
                    raise ODataError(
                        f"There is an unterminated string literal at position {start} in '{text}'."
                    )
                if text[i] == "'":
                    if text.startswith("''", i):
                        chars.append("'")
                        i += 2
                        continue
                    i += 1
                    break
                chars.append(text[i])
                i += 1
            tokens.append(_Token("string", text[start:i], start, "".join(chars)))
        elif match := _DATETIME.match(text, i):
            stamp = datetime.fromisoformat(match.group())
            tokens.append(_Token("datetime", match.group(), i, stamp))
            i = match.end()
        elif match := _NUMBER.match(text, i):
            literal = match.group()
            number: int | float = (
                float(literal) if any(c in literal for c in ".eE") else int(literal)
            )
            tokens.append(_Token("number", literal, i, number))
            i = match.end()
        elif match := _NAME.match(text, i):
            tokens.append(_Token("name", match.group(), i))
            i = match.end()
        elif char in _PUNCT:
            tokens.append(_Token("punct", char, i))
            i += 1
        else:
            raise ODataError(
                f"Syntax error: character '{char}' is not valid at position {i} in '{text}'."
            )
    tokens.append(_Token("end", "", len(text)))
    return tokens


# -- expression tree ----------------------------------------------------------


class _Operand(Protocol):
    @property
    def edm_type(self) -> str: ...

    def value(self, doc: Document, env: Env) -> Any: ...


class Condition(Protocol):
    """A parsed boolean expression, evaluated against one document."""

    def test(self, doc: Document, env: Env) -> bool: ...


@dataclass(frozen=True)
class _Literal:
    edm_type: str
    literal: Scalar

    def value(self, doc: Document, env: Env) -> Any:
        return self.literal


@dataclass(frozen=True)
class _FieldRef:
    edm_type: str
    name: str

    def value(self, doc: Document, env: Env) -> Any:
        return _typed(doc.get(self.name), self.edm_type)


@dataclass(frozen=True)
class _RangeVar:
    edm_type: str
    name: str

    def value(self, doc: Document, env: Env) -> Any:
        return _typed(env[self.name], self.edm_type)


def _typed(raw: Any, edm_type: str) -> Any:
    # Documents keep DateTimeOffset values as the ISO text they are returned
    # as; comparisons need the instant.
    if edm_type == DATETIME and isinstance(raw, str):
        return datetime.fromisoformat(raw)
    return raw


_COMPARE: Mapping[str, Callable[[Any, Any], Any]] = {
    "eq": operator.eq,
    "ne": operator.ne,
    "gt": operator.gt,
    "lt": operator.lt,
    "ge": operator.ge,
    "le": operator.le,
}
_OPERATOR_KINDS = {
    "eq": "Equal",
    "ne": "NotEqual",
    "gt": "GreaterThan",
    "lt": "LessThan",
    "ge": "GreaterThanOrEqual",
    "le": "LessThanOrEqual",
}


@dataclass(frozen=True)
class _Compare:
    op: str
    left: _Operand
    right: _Operand

    def test(self, doc: Document, env: Env) -> bool:
        left = self.left.value(doc, env)
        right = self.right.value(doc, env)
        # Ordering against null is false, as for a missing value in the service.
        if self.op not in ("eq", "ne") and (left is None or right is None):
            return False
        return bool(_COMPARE[self.op](left, right))


@dataclass(frozen=True)
class _BoolOp:
    conjunction: bool
    items: tuple[Condition, ...]

    def test(self, doc: Document, env: Env) -> bool:
        if self.conjunction:
            return all(item.test(doc, env) for item in self.items)
        return any(item.test(doc, env) for item in self.items)


@dataclass(frozen=True)
class _Not:
    item: Condition

    def test(self, doc: Document, env: Env) -> bool:
        return not self.item.test(doc, env)


@dataclass(frozen=True)
class _IsTrue:
    operand: _Operand

    def test(self, doc: Document, env: Env) -> bool:
        return self.operand.value(doc, env) is True


@dataclass(frozen=True)
class _SearchIn:
    operand: _Operand
    values: frozenset[str]

    def test(self, doc: Document, env: Env) -> bool:
        return self.operand.value(doc, env) in self.values


@dataclass(frozen=True)
class _Lambda:
    field: str
    every: bool
    variable: str
    body: Condition | None

    def test(self, doc: Document, env: Env) -> bool:
        items = doc.get(self.field) or []
        if self.body is None:
            return bool(items)
        body = self.body
        results = (body.test(doc, {**env, self.variable: item}) for item in items)
        return all(results) if self.every else any(results)


# -- parser -------------------------------------------------------------------


class _Parser:
    def __init__(self, text: str, schema: Schema) -> None:
        self._text = text
        self._schema = schema
        self._tokens = _tokenize(text)
        self._index = 0
        self._scopes: dict[str, str] = {}

    # token helpers

    def _peek(self, offset: int = 0) -> _Token:
        return self._tokens[min(self._index + offset, len(self._tokens) - 1)]

    def _next(self) -> _Token:
        token = self._peek()
        self._index += 1
        return token

    def _error(self, token: _Token | None = None) -> ODataError:
        where = (token or self._peek()).pos
        return ODataError(f"Syntax error at position {where} in '{self._text}'.")

    def _is_word(self, word: str, offset: int = 0) -> bool:
        token = self._peek(offset)
        return token.kind == "name" and token.text == word

    def _is_punct(self, char: str, offset: int = 0) -> bool:
        token = self._peek(offset)
        return token.kind == "punct" and token.text == char

    def _expect_punct(self, char: str) -> None:
        if not self._is_punct(char):
            raise self._error()
        self._index += 1

    def at_end(self) -> bool:
        return self._peek().kind == "end"

    # $filter

    def filter(self) -> Condition:
        condition = self._or()
        if not self.at_end():
            raise self._error()
        return condition

    def _or(self) -> Condition:
        items = [self._and()]
        while self._is_word("or"):
            self._index += 1
            items.append(self._and())
        return items[0] if len(items) == 1 else _BoolOp(False, tuple(items))

    def _and(self) -> Condition:
        items = [self._unary()]
        while self._is_word("and"):
            self._index += 1
            items.append(self._unary())
        return items[0] if len(items) == 1 else _BoolOp(True, tuple(items))

    def _unary(self) -> Condition:
        if self._is_word("not"):
            self._index += 1
            return _Not(self._unary())
        return self._comparison()

    def _comparison(self) -> Condition:
        if self._is_punct("("):
            self._index += 1
            inner = self._or()
            self._expect_punct(")")
            return inner
        if self._is_word("search.in"):
            return self._search_in()
        left = self._operand()
        if isinstance(left, _Lambda):
            return left
        token = self._peek()
        if token.kind == "name" and token.text in _OPERATOR_KINDS:
            self._index += 1
            right = self._operand()
            if isinstance(right, _Lambda):
                raise self._error(token)
            return self._checked_compare(token.text, left, right)
        if left.edm_type == BOOLEAN and not isinstance(left, _Literal):
            return _IsTrue(left)
        raise ODataError("The $filter expression must evaluate to a single boolean value.")

    def _checked_compare(self, op: str, left: _Operand, right: _Operand) -> _Compare:
        kind = _OPERATOR_KINDS[op]
        for side in (left, right):
            if side.edm_type.startswith("Collection("):
                raise ODataError(
                    f"The operand for a binary operator '{kind}' is not a single value. "
                    "Binary operators require both operands to be single values."
                )
        if isinstance(left, _Literal) == isinstance(right, _Literal):
            # The service compares a field with a constant, never two fields or two constants.
            raise ODataError(
                f"Comparison with operator '{op}' must be between a field and a literal value."
            )
        types = {left.edm_type, right.edm_type}
        compatible = NULL in types or len(types) == 1 or types <= _NUMERIC
        if not compatible:
            raise ODataError(
                "A binary operator with incompatible types was detected. Found operand types "
                f"'{left.edm_type}' and '{right.edm_type}' for operator kind '{kind}'."
            )
        return _Compare(op, left, right)

    def _search_in(self) -> Condition:
        self._index += 1
        self._expect_punct("(")
        target = self._operand()
        if isinstance(target, _Lambda) or target.edm_type != STRING:
            raise ODataError("search.in must be applied to a string field or range variable.")
        self._expect_punct(",")
        values = self._next()
        if values.kind != "string":
            raise self._error(values)
        delimiters = " ,"
        if self._is_punct(","):
            self._index += 1
            given = self._next()
            if given.kind != "string" or not given.value:
                raise self._error(given)
            delimiters = str(given.value)
        self._expect_punct(")")
        pattern = "[" + re.escape(delimiters) + "]"
        items = frozenset(part for part in re.split(pattern, str(values.value)) if part)
        return _SearchIn(target, items)

    def _operand(self) -> _Operand | _Lambda:  # noqa: PLR0911 - one per kind of operand
        token = self._next()
        if token.kind == "string":
            return _Literal(STRING, token.value)
        if token.kind == "datetime":
            return _Literal(DATETIME, token.value)
        if token.kind == "number":
            number = token.value
            if isinstance(number, float):
                return _Literal(DOUBLE, number)
            assert isinstance(number, int)
            return _Literal(INT32 if abs(number) <= _INT32_MAX else INT64, number)
        if token.kind != "name":
            raise self._error(token)
        if token.text in ("true", "false"):
            return _Literal(BOOLEAN, token.text == "true")
        if token.text == "null":
            return _Literal(NULL, None)
        if token.text in self._scopes:
            return _RangeVar(self._scopes[token.text], token.text)
        field = self._filterable_field(token.text)
        if self._is_punct("/"):
            return self._lambda(token.text, field)
        return _FieldRef(field.type, token.text)

    def _filterable_field(self, name: str) -> FieldLike:
        field = self._schema.get(name)
        if field is None:
            raise ODataError(f"Could not find a property named '{name}' on type 'search.document'.")
        if not field.filterable:
            raise ODataError(
                f"'{name}' is not a filterable field. "
                "Only filterable fields can be used in filter expressions."
            )
        return field

    def _lambda(self, name: str, field: FieldLike) -> _Lambda:
        self._index += 1  # the '/'
        quantifier = self._next()
        if quantifier.kind != "name" or quantifier.text not in ("any", "all"):
            raise self._error(quantifier)
        if field.type != STRING_COLLECTION:
            raise ODataError(
                f"The '{quantifier.text}' operator needs a Collection(Edm.String) field; "
                f"'{name}' is of type '{field.type}'."
            )
        self._expect_punct("(")
        if self._is_punct(")") and quantifier.text == "any":
            self._index += 1
            return _Lambda(name, every=False, variable="", body=None)
        variable = self._next()
        if variable.kind != "name" or "." in variable.text or variable.text in self._schema:
            raise self._error(variable)
        self._expect_punct(":")
        self._scopes[variable.text] = STRING
        try:
            body = self._or()
        finally:
            del self._scopes[variable.text]
        self._expect_punct(")")
        return _Lambda(name, every=quantifier.text == "all", variable=variable.text, body=body)

    # $orderby

    def orderby(self) -> list[OrderKey]:
        keys = [self._order_key()]
        while self._is_punct(","):
            self._index += 1
            keys.append(self._order_key())
        if not self.at_end():
            raise self._error()
        return keys

    def _order_key(self) -> OrderKey:
        token = self._next()
        if token.kind != "name":
            raise self._error(token)
        field: str | None
        if token.text == "search.score":
            self._expect_punct("(")
            self._expect_punct(")")
            field = None
        else:
            found = self._schema.get(token.text)
            if found is None:
                raise ODataError(
                    f"Could not find a property named '{token.text}' on type 'search.document'."
                )
            if not found.sortable:
                raise ODataError(
                    f"'{token.text}' is not a sortable field. "
                    "Only sortable fields can be used in $orderby expressions."
                )
            field = token.text
        descending = False
        if self._is_word("asc") or self._is_word("desc"):
            descending = self._next().text == "desc"
        return OrderKey(field, descending)


@dataclass(frozen=True)
class OrderKey:
    """One ``$orderby`` clause; ``field`` None means ``search.score()``."""

    field: str | None
    descending: bool


def parse_filter(text: str, schema: Schema) -> Condition:
    """Parse a ``$filter`` expression against the index fields."""
    return _Parser(text, schema).filter()


def parse_orderby(text: str, schema: Schema) -> list[OrderKey]:
    """Parse a comma-separated ``$orderby`` list against the index fields."""
    return _Parser(text, schema).orderby()
