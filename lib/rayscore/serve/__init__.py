"""Ray Serve application around the same scorers as score_batch.

    serve run rayscore.serve.app:build_app config=configs/serve_scorer/addresses.yaml
    python -m jobs.serve_scorer --config configs/serve_scorer/addresses.yaml

- app.py     the Scorer deployment (the model: dynamic batching, replicas, autoscaling), the Api
             deployment (the routes; a dead Scorer replica's requests -> JSON 503), build_app (the
             Serve application builder) and run (what jobs.serve_scorer calls)
- api.py     HTTP routes, request/response schemas, bearer-token and body-size guard, JSON errors
- config.py  ServeJobConfig and the kinds each endpoint serves (app -> api -> config); the request
             fields a kind reads are its scorer's (score.scorers.KIND_FIELDS)
"""
