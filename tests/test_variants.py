import pytest

from snnlib.model.variants import Variant, parse_variants

DESIGN_TABLE = {  # the design
    "LIF": Variant("LIF", "hard", False),
    "IF": Variant("IF", "hard", False),
    "LIF-noreset": Variant("LIF", "none", False),
    "LIF-soft": Variant("LIF", "soft", False),
    "RLIF": Variant("LIF", "hard", True),
    "RIF-noreset": Variant("IF", "none", True),
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
    with pytest.raises(ValueError, match="unknown variant 'LIFF'.*registered neuron \\(LIF, IF.*LIF, LIF-soft, LIF-noreset, IF"):
        Variant.parse("LIFF")


def test_only_if_is_non_leaky_and_runs_at_unit_decay():
    assert [v.leak for v in (Variant.parse("LIF"), Variant.parse("RIF-soft"))] == [True, False]
    assert Variant.parse("IF").decay(0.3) == 1.0 and Variant.parse("LIF-noreset").decay(0.3) == 0.3


def test_a_registered_neuron_takes_every_name_form():
    from snnlib.model import registry
    from snnlib.model.dynamics import LIF, register_neuron

    register_neuron("XLIF", LIF)
    try:
        assert Variant.parse("RXLIF-soft") == Variant("XLIF", "soft", True)
        assert Variant.parse("XLIF-noreset").name == "XLIF-noreset"
    finally:
        registry._NEURONS.pop("XLIF")


@pytest.mark.parametrize("name", ["RX", "X-1", "lif", ""])
def test_bad_neuron_names_are_refused(name):
    from snnlib.model.dynamics import LIF, register_neuron

    with pytest.raises(ValueError, match="neuron name must be"):
        register_neuron(name, LIF)


def test_bad_reset():
    with pytest.raises(ValueError, match="reset must be one of"):
        Variant("LIF", "zero", False)


def test_parse_variants_all_and_lists():
    assert parse_variants("all") == Variant.all()
    assert parse_variants(["IF", "RLIF"]) == [Variant("IF"), Variant("LIF", "hard", True)]
    with pytest.raises(ValueError, match="unknown variant"):
        parse_variants(["IF", "nope"])
