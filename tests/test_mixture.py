"""Mixture plan: budgets, epochs, exact fractional quotas, shortfalls, warnings."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from cleanpipe.config import parse_config
from cleanpipe.hashing import stable_hash
from cleanpipe.mixture import PlanError, fractional_threshold, plan_mixture


def make_config(jsonl_gz: Path, tmp_path: Path, mixture: dict, weights: dict) -> object:
    return parse_config(
        {
            "seed": 3,
            "output": {"path": str(tmp_path / "out")},
            "sources": {
                name: {"paths": [str(jsonl_gz)], "weight": w} for name, w in weights.items()
            },
            "dedup": False,
            "mixture": mixture,
        }
    )


def corpus(n: int, seed: int, tokens_low: int = 50, tokens_high: int = 5000) -> tuple:
    rng = np.random.default_rng(seed)
    hashes = np.array([stable_hash(seed, i) for i in range(n)], dtype=np.uint64)
    return hashes, rng.integers(tokens_low, tokens_high, n)


def test_epochs_follow_weights_and_budget(jsonl_gz: Path, tmp_path: Path) -> None:
    config = make_config(
        jsonl_gz, tmp_path, {"total_tokens": 1_000_000}, {"web": 0.8, "books": 0.2}
    )
    web, books = corpus(2000, 1), corpus(300, 2)
    plan = plan_mixture(
        config, {"web": web[0], "books": books[0]}, {"web": web[1], "books": books[1]}
    )
    for name, (_, tokens), share in [("web", web, 0.8), ("books", books, 0.2)]:
        p = plan.sources[name]
        assert p.epochs == pytest.approx(share * 1_000_000 / tokens.sum())
        # whole epochs + an exact token quota: within one document of the target
        assert abs(p.sampled_tokens - p.target_tokens) <= tokens.max()


def test_fractional_quota_is_exact_not_coin_flips() -> None:
    hashes, tokens = corpus(10_000, 5, 10, 20)
    for quota in (15, 1_000, 33_333, 100_000):
        threshold = fractional_threshold(hashes, tokens, quota)
        taken = tokens[hashes <= threshold].sum() if threshold >= 0 else 0
        assert abs(taken - quota) <= 10  # within half the largest document
    assert fractional_threshold(hashes, tokens, 0) == -1


def test_selection_does_not_depend_on_input_order() -> None:
    hashes, tokens = corpus(5_000, 9)
    perm = np.random.default_rng(0).permutation(5_000)
    assert fractional_threshold(hashes, tokens, 12_345) == fractional_threshold(
        hashes[perm], tokens[perm], 12_345
    )


def test_shortfall_fails_naming_source_and_ways_out(jsonl_gz: Path, tmp_path: Path) -> None:
    config = make_config(
        jsonl_gz, tmp_path, {"total_tokens": 10_000_000, "max_epochs": 4}, {"web": 0.9, "news": 0.1}
    )
    web, news = corpus(5000, 1), corpus(10, 2)
    with pytest.raises(PlanError) as info:
        plan_mixture(config, {"web": web[0], "news": news[0]}, {"web": web[1], "news": news[1]})
    message = str(info.value)
    assert "source 'news'" in message and f"{int(news[1].sum()):,} tokens available" in message
    assert "max_epochs 4" in message
    assert "lower the source's weight" in message and "total_tokens: max" in message


def test_shrink_lowers_the_budget_to_fit(jsonl_gz: Path, tmp_path: Path) -> None:
    config = make_config(
        jsonl_gz,
        tmp_path,
        {"total_tokens": 10_000_000, "max_epochs": 4, "on_shortfall": "shrink"},
        {"web": 0.9, "news": 0.1},
    )
    web, news = corpus(5000, 1), corpus(10, 2)
    plan = plan_mixture(config, {"web": web[0], "news": news[0]}, {"web": web[1], "news": news[1]})
    assert plan.sources["news"].epochs == pytest.approx(4.0)
    assert plan.budget_tokens == pytest.approx(news[1].sum() * 4 / 0.1)
    assert plan.budget_rule == "total_tokens+shrink" and "shrink" in plan.warnings[0]


def test_max_and_chinchilla_budgets(jsonl_gz: Path, tmp_path: Path) -> None:
    web, news = corpus(1000, 1), corpus(100, 2)
    args = ({"web": web[0], "news": news[0]}, {"web": web[1], "news": news[1]})
    config = make_config(
        jsonl_gz, tmp_path, {"total_tokens": "max", "max_epochs": 2}, {"web": 0.5, "news": 0.5}
    )
    plan = plan_mixture(config, *args)
    assert max(p.epochs for p in plan.sources.values()) == pytest.approx(2.0)
    config = make_config(
        jsonl_gz, tmp_path, {"total_tokens": {"chinchilla_params": 1e3}}, {"web": 0.5, "news": 0.5}
    )
    assert plan_mixture(config, *args).budget_tokens == 20_000  # Hoffmann et al. 2022


def test_epoch_warning_above_four(jsonl_gz: Path, tmp_path: Path) -> None:
    config = make_config(
        jsonl_gz, tmp_path, {"total_tokens": 50_000, "max_epochs": 10}, {"web": 0.5, "news": 0.5}
    )
    web, news = corpus(1000, 1), corpus(3, 2)
    plan = plan_mixture(config, {"web": web[0], "news": news[0]}, {"web": web[1], "news": news[1]})
    assert plan.sources["news"].epochs > 4
    assert any("'news' is repeated" in w and "Muennighoff" in w for w in plan.warnings)


def test_unknown_counting_mode(jsonl_gz: Path, tmp_path: Path) -> None:
    from cleanpipe.config import ConfigError

    with pytest.raises(ConfigError, match="mixture.token_counting: expected one of exact"):
        make_config(jsonl_gz, tmp_path, {"token_counting": "guess"}, {"web": 1})


def test_shortfall_lists_shrink_as_a_way_out(jsonl_gz: Path, tmp_path: Path) -> None:
    config = make_config(
        jsonl_gz, tmp_path, {"total_tokens": 10_000_000, "max_epochs": 4}, {"web": 0.9, "news": 0.1}
    )
    web, news = corpus(5000, 1), corpus(10, 2)
    with pytest.raises(PlanError, match="on_shortfall: shrink"):
        plan_mixture(config, {"web": web[0], "news": news[0]}, {"web": web[1], "news": news[1]})


def test_empty_source_under_max_says_so_and_does_not_suggest_max(
    jsonl_gz: Path, tmp_path: Path
) -> None:
    # every record of 'code' was rejected: total_tokens: max cannot help, it is already set
    config = make_config(jsonl_gz, tmp_path, {"total_tokens": "max"}, {"web": 0.9, "code": 0.1})
    web = corpus(500, 1)
    empty = (np.array([], dtype=np.uint64), np.array([], dtype=np.int64))
    with pytest.raises(PlanError) as info:
        plan_mixture(config, {"web": web[0], "code": empty[0]}, {"web": web[1], "code": empty[1]})
    message = str(info.value)
    assert "source 'code': no tokens left after reading, filtering and dedup" in message
    assert "rejects/" in message and "inf epochs" not in message
    assert "total_tokens: max" not in message and "on_shortfall" not in message


def test_warnings_name_the_threshold_once(jsonl_gz: Path, tmp_path: Path) -> None:
    from cleanpipe.mixture import EPOCH_WARNING

    assert EPOCH_WARNING == 4  # Muennighoff et al. 2023
    config = make_config(
        jsonl_gz, tmp_path, {"total_tokens": 50_000, "max_epochs": 10}, {"web": 0.5, "news": 0.5}
    )
    web, news = corpus(1000, 1), corpus(3, 2)
    plan = plan_mixture(config, {"web": web[0], "news": news[0]}, {"web": web[1], "news": news[1]})
    (warning,) = plan.warnings
    assert "'news' is repeated" in warning and "beyond ~4 epochs" in warning


def test_max_budget_warns_about_the_source_it_repeats_max_epochs_times(
    jsonl_gz: Path, tmp_path: Path
) -> None:
    config = make_config(
        jsonl_gz, tmp_path, {"total_tokens": "max", "max_epochs": 4}, {"web": 0.9, "news": 0.1}
    )
    web, news = corpus(5000, 1), corpus(10, 2)
    plan = plan_mixture(config, {"web": web[0], "news": news[0]}, {"web": web[1], "news": news[1]})
    assert plan.sources["news"].epochs == pytest.approx(4.0)
    assert any("total_tokens: max repeats source 'news' 4.00 times" in w for w in plan.warnings), (
        plan.warnings
    )
    assert not any("'web'" in w for w in plan.warnings)
    # a fixed budget that happens to need fewer epochs says nothing of the kind
    config = make_config(jsonl_gz, tmp_path, {"total_tokens": 1000}, {"web": 0.9, "news": 0.1})
    plan = plan_mixture(config, {"web": web[0], "news": news[0]}, {"web": web[1], "news": news[1]})
    assert plan.warnings == ()


def test_shrunk_budget_is_a_warning(jsonl_gz: Path, tmp_path: Path) -> None:
    config = make_config(
        jsonl_gz,
        tmp_path,
        {"total_tokens": 10_000_000, "on_shortfall": "shrink"},
        {"web": 0.9, "news": 0.1},
    )
    web, news = corpus(5000, 1), corpus(10, 2)
    plan = plan_mixture(config, {"web": web[0], "news": news[0]}, {"web": web[1], "news": news[1]})
    assert any("lowered the budget from 10,000,000" in w for w in plan.warnings)
