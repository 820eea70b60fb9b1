"""The inputs every run takes, made before any run (rules/containers.smk, rules/cache.smk).

Takes: the config's models, benchmarks and images. Gives: container image digests
(containers), model and dataset caches at pinned revisions with their manifests, the agent's
view of the training data without any test split (cache), and the demo's offline models built
locally (demo_models).
"""
