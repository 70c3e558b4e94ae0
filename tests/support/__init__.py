"""Helpers the tests share: factories of plans and scenes, tiny build specs, the in-process CLI
runner, the gallery and invalid-spec corpora, random render scenes and a fake pyaxidraw."""
