import pytest

from snnlib.model.variants import Variant, parse_variants

DESIGN_TABLE = {  # the design
    "LIF": Variant(True, "hard", False),
    "IF": Variant(False, "hard", False),
    "LIF-noreset": Variant(True, "none", False),
    "LIF-soft": Variant(True, "soft", False),
    "RLIF": Variant(True, "hard", True),
    "RIF-noreset": Variant(False, "none", True),
}


@pytest.mark.parametrize("name,variant", DESIGN_TABLE.items())
def test_design_table_names(name, variant):
    assert Variant.parse(name) == variant
    assert variant.name == name


def test_twelve_distinct_variants_round_trip():
    variants = Variant.all()
    assert len(variants) == 12 == len(set(variants)) == len(set(Variant.names()))
    for v in variants:
        assert Variant.parse(v.name) == v
    assert {(v.leak, v.reset, v.recurrent) for v in variants} == {
        (leak, reset, rec) for leak in (True, False) for reset in ("hard", "soft", "none") for rec in (True, False)}


def test_unknown_name_lists_valid_names():
    with pytest.raises(ValueError, match="unknown variant 'LIFF'.*LIF, LIF-soft, LIF-noreset, IF"):
        Variant.parse("LIFF")


def test_bad_reset():
    with pytest.raises(ValueError, match="reset must be one of"):
        Variant(True, "zero", False)


def test_parse_variants_all_and_lists():
    assert parse_variants("all") == Variant.all()
    assert parse_variants(["IF", "RLIF"]) == [Variant(False), Variant(True, "hard", True)]
    with pytest.raises(ValueError, match="unknown variant"):
        parse_variants(["IF", "nope"])
