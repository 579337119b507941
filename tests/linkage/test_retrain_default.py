"""Re-estimating the shipped m, u and prior keeps everything else of the shipped document."""

import json
from importlib import resources

from linkage.config import loads_config
from linkage.retrain_default import trained_defaults, with_trained_values


def test_retrained_values_replace_only_m_u_and_the_prior():
    path = resources.files("linkage").joinpath("default_match_config.json")
    document = json.loads(path.read_text(encoding="utf-8"))
    trained = trained_defaults(people=1500, seed=5)

    updated = with_trained_values(document, trained)

    config = loads_config(json.dumps(updated))
    assert config.version == document["version"]
    assert abs(updated["prior_weight"] - trained.prior_weight) < 1e-4
    strip = ("m", "u")
    for attribute, comparison in document["comparisons"].items():
        before = [{k: v for k, v in level.items() if k not in strip}
                  for level in comparison["levels"]]
        after = [{k: v for k, v in level.items() if k not in strip}
                 for level in updated["comparisons"][attribute]["levels"]]
        assert before == after
        first = updated["comparisons"][attribute]["levels"][0]
        assert first["m"] == float(f"{trained.comparison(attribute).levels[0].m:.6g}")
    assert {k: v for k, v in document.items() if k not in ("comparisons", "prior_weight")} == {
        k: v for k, v in updated.items() if k not in ("comparisons", "prior_weight")}
