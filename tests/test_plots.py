"""Figures: one colour per variant everywhere, wrapped facets, the forest plot of the claims."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402
from matplotlib.colors import to_hex, to_rgb  # noqa: E402

from snnlib.analysis import plots  # noqa: E402
from snnlib.model.variants import Variant  # noqa: E402


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def _summary(variants, xs=(1, 2), tasks=("digits",)):
    rows = [dict(variant=v, task=t, delay=x, mean=0.5 + 0.01 * i, ci_low=0.4, ci_high=0.6, n=3)
            for i, (v, t, x) in enumerate((v, t, x) for v in variants for t in tasks for x in xs)]
    return pd.DataFrame(rows)


def test_every_variant_and_the_wide_control_have_their_own_fixed_colour():
    names = Variant.names() + ["FF-wide"]
    assert sorted(plots.VARIANT_COLORS) == sorted(names)
    assert len(set(plots.VARIANT_COLORS.values())) == len(names)
    for name in Variant.names():
        if plots.is_recurrent(name):  # a darker shade of its feed-forward twin
            twin = np.array(to_rgb(plots.VARIANT_COLORS[name[1:]]))
            assert np.allclose(to_rgb(plots.VARIANT_COLORS[name]), twin * plots.RECURRENT_SHADE, atol=1 / 255)


def test_palette_for_other_names_is_deterministic():
    palette = plots.variant_palette(["LIF λ=0.5", "LIF λ=0.9", "mystery", "LIF-wide λ=0.5"])
    assert palette["LIF λ=0.5"] == "#0072B2" and palette["mystery"] == "#000000"
    assert palette["LIF λ=0.9"] == plots._lighter("#0072B2", 0.25)  # one hue per variant, lighter per level
    assert palette["LIF-wide λ=0.5"] == plots.VARIANT_COLORS["FF-wide"]
    assert plots.variant_palette(["LIF λ=0.5", "LIF λ=0.9", "mystery", "LIF-wide λ=0.5"]) == palette


def test_bars_by_variant_take_the_variant_colour_and_hatch_the_task():
    ax = plots.variant_bars(_summary(["LIF", "RIF"], xs=(1,), tasks=("digits", "memory")), hue="task")
    first, second = ax.containers[:2]
    assert [to_hex(p.get_facecolor()) for p in first.patches] == ["#0072b2", plots.VARIANT_COLORS["RIF"].lower()]
    assert {p.get_hatch() or "" for p in first.patches} == {""} and {p.get_hatch() for p in second.patches} == {"///"}
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["digits", "memory"]


def test_lines_by_variant_take_its_colour_and_recurrent_ones_are_dashed():
    ax = plots.line_ci(_summary(["LIF", "RLIF"]), x="delay", hue="variant")
    lif, rlif = ax.get_lines()[:2]
    assert to_hex(lif.get_color()) == "#0072b2" and lif.get_linestyle() == "-"
    assert to_hex(rlif.get_color()) == plots.VARIANT_COLORS["RLIF"].lower() and rlif.get_linestyle() == "--"


def test_facet_lines_wraps_at_two_panels_a_row():
    summary = _summary(["LIF", "IF"], tasks=("a", "b", "c"))
    grid = plots.facet_lines(summary, x="delay", col="task", hue="variant", ylabel="accuracy")
    assert grid.axes.shape == (3,) and len(grid.figure.axes) == 3
    rows = sorted({round(ax.get_position().y0, 3) for ax in grid.axes.flat})
    assert len(rows) == 2  # 2 + 1 panels
    labels = [t.get_text() for t in grid.figure.legends[0].get_texts()]
    assert labels == ["LIF", "IF"]
    with pytest.raises(ValueError, match="col_wrap must be an integer >= 1"):
        plots.facet_lines(summary, x="delay", col="task", col_wrap=0)
    with pytest.raises(ValueError, match="no column 'seed'"):
        plots.facet_lines(summary, x="delay", col="seed")


def _effects(**extra):
    return pd.DataFrame(dict(
        claim=["C1", "C1", "C2"], effect=["memory", "robustness", "uninterrupted"], estimate=[0.10, -0.02, 0.5],
        ci_low=[0.05, -0.05, -0.1], ci_high=[0.15, 0.01, 1.1], sesoi=[0.05, 0.02, 1.0],
        verdict=["supported", "negligible", "inconclusive"], n_seeds=[5, 5, 5], **extra))


def test_forest_plot_normalises_by_sesoi_and_groups_rows_by_claim():
    ax = plots.forest_plot(_effects())
    assert ax.get_xlabel().startswith("effect in units of its SESOI")
    assert [t.get_text() for t in ax.get_yticklabels()] == ["C1", "  memory", "  robustness", "C2", "  uninterrupted"]
    assert ax.get_yticklabels()[0].get_fontweight() == "bold"
    dots = [line for line in ax.get_lines() if line.get_marker() not in ("None", None, "")]
    assert [float(d.get_xdata()[0]) for d in dots] == pytest.approx([2.0, -1.0, 0.5])  # estimate / SESOI
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["supported", "negligible", "inconclusive"]
    assert ax.get_title() == "effects of the claims (n = 5 seeds)"


def test_forest_plot_keeps_a_shared_unit():
    ax = plots.forest_plot(_effects(unit=["accuracy"] * 3))
    assert ax.get_xlabel().startswith("effect (accuracy)")
    dots = [line for line in ax.get_lines() if line.get_marker() not in ("None", None, "")]
    assert [float(d.get_xdata()[0]) for d in dots] == pytest.approx([0.10, -0.02, 0.5])


def test_forest_plot_errors_name_what_is_wrong():
    with pytest.raises(ValueError, match="missing: sesoi"):
        plots.forest_plot(_effects().drop(columns="sesoi"))
    bad = _effects()
    bad.loc[1, "sesoi"] = np.nan
    with pytest.raises(ValueError, match="sesoi must be a number > 0 .* robustness"):
        plots.forest_plot(bad)
    with pytest.raises(ValueError, match="no rows"):
        plots.forest_plot(_effects().iloc[:0])
