# Types for django-money's model fields, which ship untyped (djmoney.money and moneyed are
# typed upstream). Without these, django-stubs sees MoneyField as a DecimalField whose value
# is a Decimal; at run time the descriptor returns a Money. The django-stubs plugin reads the
# _pyi_private_* attributes below to type the model attribute.
from collections.abc import Iterable
from decimal import Decimal
from typing import Any, TypeVar

from django.db.models import CharField, DecimalField
from django.db.models.expressions import Combinable
from djmoney.money import Currency, Money

__all__ = ("CurrencyField", "MoneyField")

_ST_contra = TypeVar("_ST_contra", contravariant=True)
_GT_co = TypeVar("_GT_co", covariant=True)

class MoneyFieldProxy:
    field: MoneyField[Any, Any]
    currency_field_name: str
    def __init__(self, field: MoneyField[Any, Any]) -> None: ...
    def __get__(self, obj: Any, objtype: Any = None) -> Any: ...
    def __set__(self, obj: Any, value: Any) -> None: ...

class CurrencyField(CharField[_ST_contra, _GT_co]):
    price_field: MoneyField[Any, Any] | None
    def __init__(
        self, price_field: MoneyField[Any, Any] | None = None, default: Any = ..., **kwargs: Any
    ) -> None: ...

class MoneyField(DecimalField[_ST_contra, _GT_co]):
    # What may be assigned: a Money, a bare amount in the field's default currency or an
    # (amount, currency) pair (MoneyFieldProxy.__set__ wraps both), or a query expression.
    # Wider than DecimalField's in Money and the pair, narrower in float: never floats here.
    _pyi_private_set_type: (  # type: ignore[assignment]
        Money | Decimal | int | str | tuple[Decimal | int | str, str] | Combinable
    )
    # What is read back: always a Money (None only when null=True, which the plugin adds).
    # Note values()/values_list() yield the column's Decimal, not this: cast there.
    _pyi_private_get_type: Money  # type: ignore[assignment]
    # filter(amount=Money(...)) is how djmoney's managers are queried; wider than DecimalField's.
    _pyi_lookup_exact_type: Money | Decimal | int | str  # type: ignore[assignment]
    default_currency: str | Currency | None
    currency_choices: Iterable[tuple[str, str]]
    currency_max_length: int
    currency_field_name: str | None
    def __init__(
        self,
        verbose_name: str | None = None,
        name: str | None = None,
        max_digits: int | None = None,
        decimal_places: int | None = ...,
        default: Any = ...,
        default_currency: str | Currency | None = ...,
        currency_choices: Iterable[tuple[str, str]] = ...,
        currency_max_length: int = ...,
        currency_field_name: str | None = None,
        money_descriptor_class: type[MoneyFieldProxy] = ...,
        **kwargs: Any,
    ) -> None: ...
