"""Parse sentences with the trained model: `python scripts/nlu_parse.py 句子 ...`."""

import asyncio
import sys

from rasa.core.agent import load_agent


async def main(texts: list[str]) -> None:
    """Print intent ranking and entities for each text."""
    agent = await load_agent("models/dianxiaoer.tar.gz")
    for text in texts:
        result = await agent.parse_message(text)
        ranking = ", ".join(
            f"{r['name']}:{r['confidence']:.2f}" for r in result.get("intent_ranking", [])[:3]
        )
        entities = [(e["entity"], e["value"]) for e in result.get("entities", [])]
        print(f"{text!r:40} {result['intent']['name']:22} [{ranking}] {entities}")


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1:]))
