"""Stage 4, the citations: each draft sentence aligned to the source sentences that support it
(`align`), judged (`verify`) and given its [n] markers (`markers`); `citer` does the three in turn."""
