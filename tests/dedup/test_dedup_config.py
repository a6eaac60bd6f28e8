"""Dedup parameters: FineWeb's S-curve by default, YAML shapes read once, mistakes refused."""

from __future__ import annotations

import pytest

from cleanpipe.dedup import DedupConfig, MinHashConfig


def test_s_curve_matches_fineweb():
    config = MinHashConfig()
    assert config.num_perm == 112
    assert config.threshold == pytest.approx(0.719, abs=0.001)
    assert config.probability(0.7) == pytest.approx(0.56, abs=0.01)
    assert config.probability(0.8) == pytest.approx(0.92, abs=0.01)


def test_config_builds_from_yaml_shapes_and_rejects_mistakes():
    assert DedupConfig(minhash=False).minhash is None
    assert DedupConfig(minhash={"ngram": 3}).minhash == MinHashConfig(ngram=3)
    assert DedupConfig.from_dict(DedupConfig().to_dict()) == DedupConfig()
    with pytest.raises(ValueError, match="shingle"):
        MinHashConfig(shingle="line")
    with pytest.raises(ValueError, match="source_priority"):
        DedupConfig(keep="source_priority")
    with pytest.raises(ValueError, match="keep"):
        DedupConfig(keep="random")
