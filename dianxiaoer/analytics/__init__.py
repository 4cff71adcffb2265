"""Analytics and the learning loop: whether the assistant helps, and what it missed.

Everything is computed from what the project already keeps — the Rasa SQL tracker
store's `events` table (read with SQLAlchemy Core in one streaming pass, never loaded
tracker by tracker) and the shop store (handoffs, ratings, tickets, returns) — with no
Rasa import, so it runs in the action server's environment.

- `sources`: the tracker store URL, the `events` table and the shop-store rows;
- `conversations`: one conversation (a sender's session) summarized from its events;
- `metrics`: the figures of the report and of the web app's analytics page;
- `charts`, `report`: matplotlib PNGs and the self-contained HTML report;
- `privacy`, `similarity`, `review`: masking, grouping, the unanswered-message export
  in Rasa NLU YAML and the merge of labelled messages into `data/nlu/reviewed.yml`;
- `synthetic`: Rasa-shaped events for tests and the benchmark.

`python -m dianxiaoer.analytics report|review-unanswered|merge-reviewed`; definitions of
every figure in docs/analytics.md.
"""
