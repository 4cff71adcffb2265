"""Role-play engine of the staff training mode: a simulated customer and a scorecard.

New customer-service staff practise against a customer played by the bot. Everything is
a pure function over a JSON-serialisable state dict (kept in a Rasa slot between turns);
a play is reproducible. Wording and cue words: config/roleplay.yml; the numbers the shop
tunes: `training.roleplay` in config/policy.yml. The parts, in the order they build on
each other:

- `content`: config/roleplay.yml, the demo catalogue and the policy's numbers, read on
  first use; template filling.
- `facts`: what is true in a situation at the start of a play (order, deadline, coupon …).
- `scenario_table`: the scenarios (situation × customer type × psychology or motive)
  and picking one by the trainee's keywords.
- `numbers`: the Chinese number and date parser ("七天", "11月22日24点").
- `reading`: what a trainee reply shows: cue words, forbidden phrases, facts right or wrong.
- `customer`: the play: its state, the customer's reaction to each reply in named steps
  (anger, points, needs, the end) and what the customer says.
- `scoring`: the scorecard, the model replies of weak turns, labels in Chinese.

Callers use the names re-exported here (`from dianxiaoer.coaching import roleplay`,
`roleplay.start(…)`). Patching `roleplay.<name>` in a test changes only the re-export:
patch the module whose code looks the name up (`roleplay.scoring.model_reply` for
`scorecard`). No part is named like a re-exported function, so `roleplay.scorecard` stays
the function and a dotted patch target still reaches the module.
"""

from dianxiaoer.coaching.roleplay.content import DIMENSIONS, _fill
from dianxiaoer.coaching.roleplay.customer import (
    _variants,
    abandon,
    brief_text,
    customer_line,
    is_over,
    outcome,
    react,
    start,
)
from dianxiaoer.coaching.roleplay.facts import _display
from dianxiaoer.coaching.roleplay.reading import _read
from dianxiaoer.coaching.roleplay.scenario_table import choose, scenario, scenarios
from dianxiaoer.coaching.roleplay.scoring import (
    NEGATIVE_CODES,
    dimension_label,
    model_reply,
    mood_label,
    outcome_label,
    scorecard,
    scorecard_text,
)

# The names other code uses; the private ones are for tests/unit/test_roleplay.py.
__all__ = [
    "DIMENSIONS",
    "NEGATIVE_CODES",
    "abandon",
    "brief_text",
    "choose",
    "customer_line",
    "dimension_label",
    "is_over",
    "model_reply",
    "mood_label",
    "outcome",
    "outcome_label",
    "react",
    "scenario",
    "scenarios",
    "scorecard",
    "scorecard_text",
    "start",
    "_display",
    "_fill",
    "_read",
    "_variants",
]
