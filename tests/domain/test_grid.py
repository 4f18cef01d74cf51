"""PriceGrid from every price-level structure Kalshi lists."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from console.domain.grid import STRUCTURES, OffGridPrice, PriceGrid


def test_linear_cent_has_99_levels():
    g = PriceGrid.for_structure("linear_cent")
    assert len(g) == 99
    assert g.min_price == 100 and g.max_price == 9900
    assert g.index_of(5600) == 55 and g.price_at(55) == 5600
    with pytest.raises(OffGridPrice):
        g.index_of(5650)


def test_deci_cent():
    g = PriceGrid.for_structure("deci_cent")
    assert len(g) == 999
    assert g.is_valid(5610) and not g.is_valid(5611)


def test_tapered_deci_cent_fine_only_at_the_edges():
    g = PriceGrid.for_structure("tapered_deci_cent")
    assert g.is_valid(10) and g.is_valid(990) and g.is_valid(9910)
    assert not g.is_valid(5010)  # centre is whole cents
    assert g.is_valid(5000) and g.is_valid(1000)
    # 99 sub-cent levels below 0.10, 80 cent levels in the centre incl. both ends, 99 above 0.90
    assert len(g) == 99 + 81 + 99


def test_center_deci_edge_centi_cent():
    g = PriceGrid.for_structure("center_deci_edge_centi_cent")
    assert g.is_valid(1) and g.is_valid(99) and g.is_valid(9999)
    assert g.is_valid(110) and not g.is_valid(111)


def test_center_half_edge_quint():
    g = PriceGrid.for_structure("center_half_edge_quint_cent")
    assert g.is_valid(20) and not g.is_valid(30)      # edge: 0.002 steps
    assert g.is_valid(5050) and not g.is_valid(5020)  # centre: 0.005 steps


def test_from_wire_and_back():
    wire = [{"start": "0.00", "end": "0.10", "step": "0.001"}, {"start": "0.10", "end": "0.90", "step": "0.01"},
            {"start": "0.90", "end": "1.00", "step": "0.001"}]
    g = PriceGrid.from_wire(wire)
    assert g == PriceGrid.for_structure("tapered_deci_cent")
    assert PriceGrid.from_wire(g.to_wire()) == g


def test_zero_and_one_are_never_valid():
    for name in STRUCTURES:
        g = PriceGrid.for_structure(name)
        assert not g.is_valid(0) and not g.is_valid(10000), name


def test_rounding_helpers():
    g = PriceGrid.for_structure("linear_cent")
    assert g.round_down(5650) == 5600 and g.round_up(5650) == 5700
    assert g.round_up(9950) is None and g.round_down(50) is None


@given(st.sampled_from(sorted(STRUCTURES)), st.data())
def test_index_price_round_trip(name, data):
    g = PriceGrid.for_structure(name)
    i = data.draw(st.integers(min_value=0, max_value=len(g) - 1))
    assert g.index_of(g.price_at(i)) == i
    if i:
        assert g.price_at(i - 1) < g.price_at(i)
