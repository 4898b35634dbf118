"""The files in cluster/ are what Ray and KubeRay accept, checked without a cluster or network.

Run as:
  pytest tests/unit/test_cluster_files.py

Autoscaler YAMLs go through Ray's own JSON schema and the config preparation `ray up` does before
it touches a cloud; the runtime env through Ray's RuntimeEnv and the packager `ray job submit`
uploads with; KubeRay manifests get the fields the operator needs and their job entrypoints are
parsed into the jobs' own typed configs. Each check is also run on a broken copy, so a check that
cannot fail would show.

KubeRay's CRDs (ray.io_rayclusters.yaml, ray.io_rayjobs.yaml, ray.io_rayservices.yaml) ship on no
package registry; given a folder of them (a KubeRay release's ray-operator/config/crd/bases), every
manifest is also validated against its CRD's schema, strictly, as the API server prunes:
  KUBERAY_CRDS=~/kuberay/ray-operator/config/crd/bases pytest tests/unit/test_cluster_files.py
"""

from __future__ import annotations

import copy
import dataclasses
import importlib
import json
import os
import re
import shlex
import zipfile
from pathlib import Path

import jsonschema
import pytest
import ray
import yaml
from ray.autoscaler._private.util import prepare_config, validate_config
from ray.runtime_env import RuntimeEnv

from rayscore.logs import NOISE_ENV

ROOT = Path(__file__).resolve().parents[2]
CLUSTER = ROOT / "cluster"
AUTOSCALER_YAMLS = ["aws.yaml", "gcp.yaml"]
MANIFESTS = {
    "kuberay/raycluster.yaml": "RayCluster",
    "kuberay/rayjob-train-reward.yaml": "RayJob",
    "kuberay/rayjob-score-batch.yaml": "RayJob",
    "kuberay/rayservice-serve-scorer.yaml": "RayService",
}
RAYJOBS = [name for name, kind in MANIFESTS.items() if kind == "RayJob"]
# What must never be uploaded or synced: each is large, local or secret.
NEVER_SHIPPED = [".venv", ".git", "out", "benchmarks/results"]
RAY_IMAGE = f"rayproject/ray:{ray.__version__}-py311"
CRD_DIR = Path(os.environ.get("KUBERAY_CRDS", CLUSTER / "kuberay" / "crds")).expanduser()
CRD_FILES = {"RayCluster": "ray.io_rayclusters.yaml", "RayJob": "ray.io_rayjobs.yaml",
             "RayService": "ray.io_rayservices.yaml"}
GPU_RESOURCE = "nvidia.com/gpu"


def load_yaml(relpath: str):
    return yaml.safe_load((CLUSTER / relpath).read_text())


def load_manifest(relpath: str) -> dict:
    docs = [d for d in yaml.safe_load_all((CLUSTER / relpath).read_text()) if d is not None]
    assert len(docs) == 1, f"{relpath}: expected one YAML document, found {len(docs)}"
    return docs[0]


@pytest.fixture(scope="module")
def ray_schema() -> dict:
    return json.loads((Path(ray.autoscaler.__file__).parent / "ray-schema.json").read_text())


# --------------------------------------------------------------------------- runtime env

def runtime_env_problems(data: dict) -> list[str]:
    """Keys Ray does not know (RuntimeEnv silently keeps them as plugin fields) and what is missing."""
    problems = [f"unknown runtime_env key {k!r}" for k in sorted(set(data) - RuntimeEnv.known_fields)]
    env_vars = data.get("env_vars", {})
    if env_vars.get("PYTHONPATH") != "lib":
        problems.append("env_vars.PYTHONPATH must be 'lib' (workers import rayscore from lib/), "
                        f"got {env_vars.get('PYTHONPATH')!r}")
    for key in ("HF_HUB_OFFLINE", "TOKENIZERS_PARALLELISM"):
        if key not in env_vars:
            problems.append(f"env_vars.{key} missing")
    for key, value in NOISE_ENV.items():  # what keeps library noise off the job's console
        if env_vars.get(key) != value:
            problems.append(f"env_vars.{key} must be {value!r} (rayscore.logs.NOISE_ENV), got {env_vars.get(key)!r}")
    return problems


def test_runtime_env_is_a_valid_ray_runtime_env(monkeypatch):
    data = load_yaml("runtime_env.yaml")
    assert runtime_env_problems(data) == []
    assert data["working_dir"] == "."
    monkeypatch.chdir(ROOT)  # `ray job submit` resolves working_dir from where it runs
    env = RuntimeEnv(**data)
    assert env["env_vars"]["TOKENIZERS_PARALLELISM"] == "false"
    assert Path(env["working_dir"]).resolve() == ROOT


@pytest.mark.parametrize("breakage", ["misspelled key", "env var not a string", "no PYTHONPATH"])
def test_broken_runtime_env_is_rejected(breakage, monkeypatch):
    data = load_yaml("runtime_env.yaml")
    monkeypatch.chdir(ROOT)
    if breakage == "misspelled key":
        data["env_var"] = data.pop("env_vars")
        assert any("unknown runtime_env key 'env_var'" in p for p in runtime_env_problems(data))
    elif breakage == "env var not a string":
        data["env_vars"]["HF_HUB_OFFLINE"] = 1
        with pytest.raises(TypeError):
            RuntimeEnv(**data)
    else:
        del data["env_vars"]["PYTHONPATH"]
        assert any("PYTHONPATH" in p for p in runtime_env_problems(data))


def test_working_dir_upload_has_the_code_and_nothing_local(tmp_path):
    """Build the zip `ray job submit` would upload, with our excludes alone (not Ray's defaults)."""
    from ray._private.runtime_env.packaging import create_package

    excludes = load_yaml("runtime_env.yaml")["excludes"]
    package = tmp_path / "pkg.zip"
    create_package(str(ROOT), package, include_gitignore=True, excludes=excludes)
    names = zipfile.ZipFile(package).namelist()
    for needed in ("lib/rayscore/__init__.py", "jobs/__init__.py", "cluster/runtime_env.yaml", "pyproject.toml"):
        assert needed in names, f"{needed} missing from the uploaded working dir"
    shipped = [n for n in names if any(n == d or n.startswith(d + "/") for d in NEVER_SHIPPED)]
    assert shipped == []
    assert not [n for n in names if "__pycache__" in n or ".egg-info" in n]
    assert package.stat().st_size < 20 * 2**20, "the working dir upload grew past 20 MiB"


def test_runtime_env_excludes_skip_whole_folders():
    """A folder must match itself, not only its files, or Ray walks all of .venv before skipping it."""
    from ray._private.runtime_env.packaging import _get_excludes

    excluded = _get_excludes(ROOT, load_yaml("runtime_env.yaml")["excludes"])
    for folder in NEVER_SHIPPED:
        assert excluded(ROOT / folder), f"{folder} is not excluded as a folder"
    for kept in ("lib", "lib/rayscore/__init__.py", "jobs", "configs", "lib/out"):
        assert not excluded(ROOT / kept), f"{kept} would not be uploaded"
    trailing_slash = _get_excludes(ROOT, ["/.venv/"])
    assert not trailing_slash(ROOT / ".venv")  # why the YAML has no trailing slashes


# --------------------------------------------------------------------------- autoscaler YAMLs

def node_type_problems(config: dict) -> list[str]:
    """What the schema cannot say: head exists and runs nothing, GPU types have GPUs, bounds add up."""
    problems = []
    types = config.get("available_node_types", {})
    head = config.get("head_node_type")
    if head not in types:
        problems.append(f"head_node_type {head!r} is not one of {sorted(types)}")
    else:
        resources = types[head]["resources"]
        if resources.get("CPU") != 0 or resources.get("GPU", 0) != 0:
            problems.append(f"head {head!r} must declare CPU: 0 and no GPU, got {resources}")
    workers = {name: t for name, t in types.items() if name != head}
    gpu_counts = []
    for name, node_type in workers.items():
        gpus = node_type["resources"].get("GPU", 0)
        if "gpu" in name and gpus < 1:
            problems.append(f"{name}: a GPU worker type must declare GPU resources, got {node_type['resources']}")
        if "gpu" not in name and gpus:
            problems.append(f"{name}: GPUs on a type not named gpu_*")
        if node_type["resources"].get("CPU", 0) < 1:
            problems.append(f"{name}: workers must declare CPUs")
        if node_type.get("min_workers", 0) > node_type.get("max_workers", 0):
            problems.append(f"{name}: min_workers > max_workers")
        gpu_counts.append(gpus)
    if not any(n >= 4 for n in gpu_counts):
        problems.append("no multi-GPU worker type for training")
    if 1 not in gpu_counts:
        problems.append("no 1-GPU worker type for scoring")
    if 0 not in gpu_counts:
        problems.append("no CPU-only worker type")
    total_min = sum(t.get("min_workers", 0) for t in workers.values())
    if total_min > config.get("max_workers", 0):
        problems.append(f"max_workers {config.get('max_workers')} < sum of min_workers {total_min}")
    return problems


def setup_problems(config: dict) -> list[str]:
    """Each node type installs torch 2.13 (CPU or CUDA build as fits) and then rayscore from the synced project."""
    problems = []
    remote = [r for r, local in config.get("file_mounts", {}).items() if local in (".", "./")]
    if len(remote) != 1:
        return [f"file_mounts must sync the project ('.') to one remote dir, got {config.get('file_mounts')}"]
    constraints = (ROOT / "constraints.txt")
    pinned = re.search(r"^torch==(\S+)$", constraints.read_text(), re.M) if constraints.exists() else None
    torch_pin = f"torch=={pinned.group(1)}" if pinned else "torch==2.13.0"
    common = config.get("setup_commands", [])
    per_type = {config["head_node_type"]: common + config.get("head_setup_commands", [])}
    for name, node_type in config["available_node_types"].items():
        if name != config["head_node_type"]:
            per_type[name] = node_type.get("worker_setup_commands", common + config.get("worker_setup_commands", []))
    for name, commands in per_type.items():
        gpu = config["available_node_types"][name]["resources"].get("GPU", 0) > 0
        torch_at = [i for i, c in enumerate(commands) if "pip install" in c and torch_pin in c]
        rayscore_at = [i for i, c in enumerate(commands)
                       if f"cd {remote[0]}" in c and "pip install" in c and "-c constraints.txt" in c and "-e ." in c]
        if not torch_at:
            problems.append(f"{name}: no `pip install {torch_pin}`")
        elif gpu != bool(re.search(r"whl/cu\d+", commands[torch_at[0]])):
            problems.append(f"{name}: torch build does not match the node (GPU={gpu}): {commands[torch_at[0]]}")
        if not rayscore_at:
            problems.append(f"{name}: no `cd {remote[0]} && pip install -c constraints.txt -e .`")
        elif torch_at and rayscore_at[0] < torch_at[0]:
            problems.append(f"{name}: rayscore is installed before torch (pip would pick torch's default build)")
    return problems


@pytest.mark.parametrize("name", AUTOSCALER_YAMLS)
def test_autoscaler_yaml_passes_rays_schema_and_checks(name, ray_schema):
    config = load_yaml(name)
    jsonschema.validate(config, ray_schema)
    prepared = prepare_config(copy.deepcopy(config))  # what `ray up` does before any cloud call
    validate_config(prepared)
    assert prepared["available_node_types"][config["head_node_type"]]["max_workers"] == 0


@pytest.mark.parametrize("name", AUTOSCALER_YAMLS)
def test_autoscaler_node_types(name):
    assert node_type_problems(load_yaml(name)) == []


@pytest.mark.parametrize("name", AUTOSCALER_YAMLS)
def test_autoscaler_setup_installs_torch_then_rayscore(name):
    assert setup_problems(load_yaml(name)) == []


@pytest.mark.parametrize("name", AUTOSCALER_YAMLS)
def test_autoscaler_images_sync_and_start(name):
    config = load_yaml(name)
    images = [config["docker"]["image"], config["docker"]["head_image"]] + [
        t["docker"]["worker_image"] for t in config["available_node_types"].values() if "docker" in t]
    assert all(image.startswith(RAY_IMAGE) for image in images), f"images must match ray {ray.__version__}: {images}"
    assert config["docker"]["image"].endswith("-gpu")
    excluded = " ".join(config["rsync_exclude"])
    assert all(d.split("/")[-1] in excluded for d in NEVER_SHIPPED), config["rsync_exclude"]
    assert any("--autoscaling-config=~/ray_bootstrap_config.yaml" in c for c in config["head_start_ray_commands"])
    assert any("--address=$RAY_HEAD_IP:6379" in c for c in config["worker_start_ray_commands"])


BREAKAGES = {
    "misspelled top-level key": lambda c: c.update(head_node_typ=c.pop("head_node_type")),
    "misspelled node type key": lambda c: next(t for n, t in c["available_node_types"].items()
                                               if "gpu" in n).update(min_worker=0),
    "resource count as string": lambda c: next(t for n, t in c["available_node_types"].items()
                                               if "gpu" in n)["resources"].update(GPU="4"),
    "no provider": lambda c: c.pop("provider"),
}


@pytest.mark.parametrize("breakage", sorted(BREAKAGES))
@pytest.mark.parametrize("name", AUTOSCALER_YAMLS)
def test_broken_autoscaler_yaml_fails_schema(name, breakage, ray_schema):
    config = load_yaml(name)
    BREAKAGES[breakage](config)
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(config, ray_schema)


@pytest.mark.parametrize("name", AUTOSCALER_YAMLS)
def test_broken_autoscaler_yaml_fails_our_checks(name):
    config = load_yaml(name)
    del config["head_node_type"]  # the schema allows this; Ray's validate_config does not
    with pytest.raises(ValueError, match="head_node_type"):
        validate_config(prepare_config(copy.deepcopy(config)))
    assert any("head_node_type" in p for p in node_type_problems(config))

    config = load_yaml(name)
    gpu_type = next(n for n in config["available_node_types"] if "gpu" in n)
    config["available_node_types"][gpu_type]["resources"].pop("GPU")
    config["available_node_types"][gpu_type]["min_workers"] = config["max_workers"] + 1
    problems = node_type_problems(config)
    assert any("must declare GPU" in p for p in problems) and any("sum of min_workers" in p for p in problems)

    config = load_yaml(name)
    config["worker_setup_commands"] = list(reversed(config["worker_setup_commands"]))
    assert any("before torch" in p for p in setup_problems(config))


# --------------------------------------------------------------------------- KubeRay manifests

def cluster_spec_problems(spec: dict, where: str) -> list[str]:
    """The fields KubeRay requires or reads, and the shapes it expects (checked with or without its CRDs)."""
    problems = []

    def check_group(group: dict, name: str, container_name: str) -> None:
        params = group.get("rayStartParams")
        if not isinstance(params, dict):
            problems.append(f"{name}: rayStartParams must be a mapping (may be empty)")
        elif not all(isinstance(v, str) for v in params.values()):
            problems.append(f"{name}: rayStartParams values must be strings (map[string]string), got {params}")
        containers = group.get("template", {}).get("spec", {}).get("containers") or [{}]
        ray_container = containers[0]
        image = ray_container.get("image", "")
        if not image.startswith(RAY_IMAGE):
            problems.append(f"{name}: containers[0].image {image!r} is not {RAY_IMAGE}[-gpu]")
        resources = ray_container.get("resources", {})
        for kind in ("requests", "limits"):
            if not {"cpu", "memory"} <= set(resources.get(kind, {})):
                problems.append(f"{name}: {container_name} needs cpu and memory {kind}")
        gpus = resources.get("limits", {}).get(GPU_RESOURCE)
        if "gpu" in name:
            if gpus is None or int(gpus) < 1:
                problems.append(f"{name}: a GPU group needs a {GPU_RESOURCE} limit")
            elif resources.get("requests", {}).get(GPU_RESOURCE) not in (None, gpus):
                problems.append(f"{name}: {GPU_RESOURCE} request differs from its limit")
            if not image.endswith("-gpu"):
                problems.append(f"{name}: a GPU group needs the -gpu image")
        elif gpus is not None:
            problems.append(f"{name}: {GPU_RESOURCE} on a group not named gpu-*")

    if spec.get("rayVersion") != ray.__version__:
        problems.append(f"{where}: rayVersion {spec.get('rayVersion')!r} != installed ray {ray.__version__}")
    head = spec.get("headGroupSpec")
    if not isinstance(head, dict):
        return problems + [f"{where}: headGroupSpec missing"]
    check_group(head, f"{where} head", "ray-head")
    if head.get("rayStartParams", {}).get("num-cpus") != "0":
        problems.append(f"{where} head: rayStartParams num-cpus must be '0' (no tasks on the head)")
    groups = spec.get("workerGroupSpecs") or []
    if not groups:
        problems.append(f"{where}: no workerGroupSpecs")
    names = [g.get("groupName") for g in groups]
    if len(set(names)) != len(names):
        problems.append(f"{where}: duplicate groupName in {names}")
    for i, group in enumerate(groups):
        name = f"{where} {group.get('groupName') or f'workerGroupSpecs[{i}]'}"
        for key in ("groupName", "replicas", "minReplicas", "maxReplicas", "rayStartParams", "template"):
            if key not in group:
                problems.append(f"{name}: {key} missing")
        counts = [group.get(k) for k in ("minReplicas", "replicas", "maxReplicas")]
        if all(isinstance(c, int) for c in counts) and not counts[0] <= counts[1] <= counts[2]:
            problems.append(f"{name}: needs minReplicas <= replicas <= maxReplicas, got {counts}")
        check_group(group, name, "ray-worker")
    return problems


def cluster_spec_of(doc: dict) -> dict:
    spec = doc["spec"]
    return {"RayCluster": spec, "RayJob": spec.get("rayClusterSpec"),
            "RayService": spec.get("rayClusterConfig")}[doc["kind"]]


@pytest.mark.parametrize("relpath", sorted(MANIFESTS))
def test_manifest_kind_and_cluster_spec(relpath):
    doc = load_manifest(relpath)
    assert doc["apiVersion"] == "ray.io/v1"
    assert doc["kind"] == MANIFESTS[relpath]
    assert re.fullmatch(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?", doc["metadata"]["name"]), doc["metadata"]["name"]
    spec = cluster_spec_of(doc)
    assert isinstance(spec, dict), f"{relpath}: no cluster spec"
    assert cluster_spec_problems(spec, relpath) == []
    assert spec.get("authOptions", {}).get("mode") == "token"  # Ray 2.60 defaults to token auth


def test_raycluster_autoscales_cpu_and_gpu_groups():
    spec = load_manifest("kuberay/raycluster.yaml")["spec"]
    assert spec["enableInTreeAutoscaling"] is True
    assert spec["autoscalerOptions"]["idleTimeoutSeconds"] > 0
    groups = {g["groupName"]: g for g in spec["workerGroupSpecs"]}
    gpu_groups = [g for n, g in groups.items() if "gpu" in n]
    assert len(gpu_groups) >= 2 and len(groups) > len(gpu_groups), sorted(groups)
    assert all(g["minReplicas"] == 0 and g["maxReplicas"] >= 1 for g in groups.values())
    gpus = sorted(int(g["template"]["spec"]["containers"][0]["resources"]["limits"][GPU_RESOURCE]) for g in gpu_groups)
    assert gpus[0] == 1 and gpus[-1] >= 4, gpus


@pytest.mark.parametrize("breakage", ["no minReplicas", "int rayStartParams", "gpu group without gpus",
                                      "replicas above max", "no head image"])
def test_broken_cluster_spec_is_caught(breakage):
    spec = load_manifest("kuberay/raycluster.yaml")["spec"]
    gpu_group = next(g for g in spec["workerGroupSpecs"] if "gpu" in g["groupName"])
    if breakage == "no minReplicas":
        del spec["workerGroupSpecs"][0]["minReplicas"]
    elif breakage == "int rayStartParams":
        spec["headGroupSpec"]["rayStartParams"]["num-cpus"] = 0
    elif breakage == "gpu group without gpus":
        gpu_group["template"]["spec"]["containers"][0]["resources"]["limits"].pop(GPU_RESOURCE)
    elif breakage == "replicas above max":
        gpu_group["replicas"] = gpu_group["maxReplicas"] + 1
    else:
        del spec["headGroupSpec"]["template"]["spec"]["containers"][0]["image"]
    assert cluster_spec_problems(spec, "broken") != []


# --------------------------------------------------------------------------- KubeRay CRD schemas

def strict_schema(node: dict) -> dict:
    """A CRD's structural schema (OpenAPI v3 with Kubernetes extensions) as a JSON Schema that fails
    where the API server would drop or refuse a field. Kubernetes prunes fields a structural schema
    does not name, so an object with properties and no additionalProperties takes no other key
    (a typo fails here instead of vanishing); x-kubernetes-preserve-unknown-fields keeps an object
    open; x-kubernetes-int-or-string takes an integer or a string, nothing else; nullable takes
    null; a list-type set has unique items. CEL rules (x-kubernetes-validations) are not run."""
    out = {k: v for k, v in node.items() if not k.startswith("x-kubernetes-") and k != "nullable"}
    if "properties" in node:
        out["properties"] = {name: strict_schema(sub) for name, sub in node["properties"].items()}
    if isinstance(node.get("additionalProperties"), dict):
        out["additionalProperties"] = strict_schema(node["additionalProperties"])
    if "items" in node:
        out["items"] = strict_schema(node["items"])
    for key in ("allOf", "anyOf", "oneOf"):
        if key in node:
            out[key] = [strict_schema(sub) for sub in node[key]]
    if node.get("x-kubernetes-int-or-string"):
        out.setdefault("anyOf", [{"type": "integer"}, {"type": "string"}])
    if node.get("nullable") and "type" in out:
        out["type"] = [out["type"], "null"]
    if node.get("x-kubernetes-embedded-resource"):
        out["properties"] = {"apiVersion": {"type": "string"}, "kind": {"type": "string"},
                             "metadata": {"type": "object"}, **out.get("properties", {})}
    if (node.get("type") == "object" and "additionalProperties" not in node
            and not node.get("x-kubernetes-preserve-unknown-fields")):
        out["additionalProperties"] = False
    if node.get("x-kubernetes-list-type") == "set":
        out["uniqueItems"] = True
    return out


def schema_problems(doc: dict, validator: jsonschema.Validator) -> list[str]:
    return [f"{'.'.join(map(str, e.absolute_path)) or '(root)'}: {e.message}"
            for e in sorted(validator.iter_errors(doc), key=lambda e: list(map(str, e.absolute_path)))]


@pytest.fixture(scope="module")
def crd_validators() -> dict[str, jsonschema.Validator]:
    """kind -> validator of a whole manifest (the version its apiVersion names) against its CRD."""
    missing = [name for name in CRD_FILES.values() if not (CRD_DIR / name).is_file()]
    if missing:
        pytest.skip(f"no KubeRay CRDs at {CRD_DIR} ({', '.join(missing)}): set KUBERAY_CRDS to a KubeRay "
                    f"release's ray-operator/config/crd/bases")
    validators = {}
    for kind, name in CRD_FILES.items():
        crd = yaml.load((CRD_DIR / name).read_text(), Loader=yaml.CSafeLoader)  # 1 MB each: libyaml's speed
        assert crd["kind"] == "CustomResourceDefinition" and crd["spec"]["names"]["kind"] == kind, name
        (version,) = [v for v in crd["spec"]["versions"] if f"{crd['spec']['group']}/{v['name']}" == "ray.io/v1"]
        assert version["served"], f"{name}: ray.io/v1 is not served"
        schema = strict_schema(version["schema"]["openAPIV3Schema"])
        # The API server checks the top-level ObjectMeta itself; the CRD only says "object".
        schema["properties"]["metadata"] = {"type": "object"}
        validators[kind] = jsonschema.Draft4Validator(schema)
    return validators


def test_strict_schema_follows_kubernetes_pruning():
    """On a small structural schema of the same shape as KubeRay's: what passes and what fails."""
    validator = jsonschema.Draft4Validator(strict_schema({
        "type": "object",
        "properties": {
            "spec": {"type": "object", "required": ["groups"], "properties": {
                "groups": {"type": "array", "items": {"type": "object", "properties": {
                    "replicas": {"type": "integer", "format": "int32"},
                    "params": {"type": "object", "additionalProperties": {"type": "string"}},
                    "cpu": {"anyOf": [{"type": "integer"}, {"type": "string"}], "x-kubernetes-int-or-string": True,
                            "pattern": "^[0-9]+m?$"},
                    "port": {"x-kubernetes-int-or-string": True},
                    "extra": {"type": "object", "x-kubernetes-preserve-unknown-fields": True},
                    "note": {"type": "string", "nullable": True},
                    "tags": {"type": "array", "items": {"type": "string"}, "x-kubernetes-list-type": "set"},
                }}}}}}}))
    good = {"spec": {"groups": [{"replicas": 1, "params": {"num-cpus": "0"}, "cpu": "500m", "port": "http",
                                 "extra": {"anything": {"at": ["all"]}}, "note": None, "tags": ["a", "b"]},
                                {"cpu": 2, "port": 8000}]}}
    assert schema_problems(good, validator) == []
    broken = copy.deepcopy(good)
    group = broken["spec"]["groups"][0]
    group["replica"] = group.pop("replicas")                      # a typo'd key: pruned by Kubernetes
    group["params"]["num-gpus"] = 1                               # map[string]string
    group["cpu"], broken["spec"]["groups"][1]["port"] = "half", True  # pattern; int-or-string
    group["tags"] = ["a", "a"]                                    # a set
    broken["spce"] = broken.pop("spec")                           # a typo at the top
    problems = schema_problems(broken, validator)
    assert problems == ["(root): Additional properties are not allowed ('spce' was unexpected)"]
    nested = copy.deepcopy(broken)
    nested["spec"] = nested.pop("spce")
    problems = schema_problems(nested, validator)
    assert sorted(p.split(":")[0] for p in problems) == [
        "spec.groups.0", "spec.groups.0.cpu", "spec.groups.0.params.num-gpus", "spec.groups.0.tags",
        "spec.groups.1.port"], problems
    assert "'replica' was unexpected" in problems[0]


@pytest.mark.parametrize("relpath", sorted(MANIFESTS))
def test_manifest_passes_its_kuberay_crd(relpath, crd_validators):
    doc = load_manifest(relpath)
    assert schema_problems(doc, crd_validators[doc["kind"]]) == []


# Each manifest broken where its CRD schema must notice: a misspelled key deep in a pod template,
# a misspelled key of KubeRay's own, and a value of the wrong type.
CRD_BREAKAGES = {
    "container key": (lambda c: c["headGroupSpec"]["template"]["spec"]["containers"][0],
                      "resources", "resource", "'resource' was unexpected"),
    "kuberay key": (lambda c: c["workerGroupSpecs"][0], "rayStartParams", "rayStartParam",
                    "'rayStartParam' was unexpected"),
    "int as string": (lambda c: c["workerGroupSpecs"][0], "maxReplicas", None, "is not of type 'integer'"),
}


@pytest.mark.parametrize("breakage", sorted(CRD_BREAKAGES))
@pytest.mark.parametrize("relpath", sorted(MANIFESTS))
def test_broken_manifest_fails_its_kuberay_crd(relpath, breakage, crd_validators):
    doc = load_manifest(relpath)
    where, key, new_key, message = CRD_BREAKAGES[breakage]
    part = where(cluster_spec_of(doc))
    if new_key is None:
        part[key] = str(part[key])
    else:
        part[new_key] = part.pop(key)
    problems = schema_problems(doc, crd_validators[doc["kind"]])
    assert any(message in p for p in problems), problems
    if doc["kind"] != "RayCluster":  # and a misspelled key of the RayJob's or RayService's own
        doc = load_manifest(relpath)
        key, typo = {"RayJob": ("entrypoint", "entryPoint"),
                     "RayService": ("serveConfigV2", "serveConfigv2")}[doc["kind"]]
        doc["spec"][typo] = doc["spec"].pop(key)
        assert schema_problems(doc, crd_validators[doc["kind"]]) == [
            f"spec: Additional properties are not allowed ('{typo}' was unexpected)"]


def job_config_class(module_name: str) -> type:
    """The job's typed config: the one *JobConfig dataclass its entry point module uses."""
    module = importlib.import_module(module_name)
    found = [v for k, v in vars(module).items()
             if k.endswith("JobConfig") and isinstance(v, type) and dataclasses.is_dataclass(v)]
    assert len(found) == 1, f"{module_name}: expected one *JobConfig class, found {found}"
    return found[0]


def entrypoint_problems(entrypoint: str) -> tuple[list[str], str | None]:
    """(problems, config path) for `python -m jobs.<job> --config configs/<job>/<x>.yaml key=value...`."""
    words = shlex.split(entrypoint)
    if words[:2] != ["python", "-m"] or len(words) < 3 or not words[2].startswith("jobs."):
        return [f"entrypoint must start with `python -m jobs.`: {entrypoint!r}"], None
    job = words[2].removeprefix("jobs.")
    problems = []
    if not (ROOT / "jobs" / f"{job}.py").is_file():
        problems.append(f"jobs/{job}.py does not exist")
    config = words[words.index("--config") + 1] if "--config" in words[:-1] else None
    if config is None or not re.fullmatch(rf"configs/{job}/[\w.-]+\.yaml", config):
        problems.append(f"entrypoint needs `--config configs/{job}/<variant>.yaml`, got {config!r}")
    return problems, config


@pytest.mark.parametrize("relpath", RAYJOBS)
def test_rayjob_entrypoint_names_a_job_and_its_config(relpath, monkeypatch):
    spec = load_manifest(relpath)["spec"]
    problems, config = entrypoint_problems(spec["entrypoint"])
    assert problems == []
    if not (ROOT / config).is_file():
        pytest.skip(f"{config} (named by {relpath}) is not written yet")
    # The whole command line must parse into the job's typed config: a renamed key fails here.
    from rayscore.config import load_config

    words = shlex.split(spec["entrypoint"])
    monkeypatch.chdir(ROOT)
    monkeypatch.syspath_prepend(str(ROOT))  # `python -m jobs.X` runs from the root; bare `pytest` does not add it
    cfg = load_config(job_config_class(words[2]), words[3:])
    assert dataclasses.is_dataclass(cfg)


@pytest.mark.parametrize("entrypoint", [
    "python jobs/score_batch.py --config configs/score_batch/addresses.yaml",
    "python -m jobs.no_such_job --config configs/no_such_job/x.yaml",
    "python -m jobs.score_batch --config configs/train_reward/addresses.yaml",
    "python -m jobs.score_batch input=x",
])
def test_bad_entrypoints_are_caught(entrypoint):
    assert entrypoint_problems(entrypoint)[0] != []


@pytest.mark.parametrize("relpath", RAYJOBS)
def test_rayjob_lifecycle_and_runtime_env(relpath):
    spec = load_manifest(relpath)["spec"]
    assert spec["shutdownAfterJobFinishes"] is True
    assert isinstance(spec["ttlSecondsAfterFinished"], int) and spec["ttlSecondsAfterFinished"] >= 0
    # A local working_dir is uploaded by the submitter pod, which only K8sJobMode has.
    assert spec.get("submissionMode", "K8sJobMode") == "K8sJobMode"
    runtime_env = yaml.safe_load(spec["runtimeEnvYAML"])
    assert runtime_env_problems(runtime_env) == []
    assert runtime_env["env_vars"] == load_yaml("runtime_env.yaml")["env_vars"], "drifted from cluster/runtime_env.yaml"
    # working_dir is the project inside the image; RuntimeEnv would look for it on this machine.
    assert Path(runtime_env.pop("working_dir")).is_absolute()
    RuntimeEnv(**runtime_env)


def test_rayservice_serves_the_rayscore_app():
    from ray.serve.schema import ServeDeploySchema

    spec = load_manifest("kuberay/rayservice-serve-scorer.yaml")["spec"]
    serve_config = ServeDeploySchema.model_validate(yaml.safe_load(spec["serveConfigV2"]))
    (app,) = serve_config.applications
    assert app.import_path == "rayscore.serve.app:build_app"
    config = app.args["config"]
    assert re.search(r"(^|/)configs/serve_scorer/[\w.-]+\.yaml$", config), config
    assert spec["rayClusterConfig"]["enableInTreeAutoscaling"] is True

    broken = yaml.safe_load(spec["serveConfigV2"])
    broken["applications"][0]["import_pth"] = broken["applications"][0].pop("import_path")
    with pytest.raises(Exception, match="import_path"):
        ServeDeploySchema.model_validate(broken)


def test_rayservice_args_build_the_app_on_the_trained_model():
    from rayscore.serve.app import build_app

    spec = load_manifest("kuberay/rayservice-serve-scorer.yaml")["spec"]
    args = dict(yaml.safe_load(spec["serveConfigV2"])["applications"][0]["args"])
    args["config"] = str(ROOT / args["config"][args["config"].index("configs/"):])  # the image's copy, here
    cfg = build_app(args)._bound_deployment.init_args[0]
    # The model the RayJob exports: <output_dir>/model on the shared volume.
    train = load_manifest("kuberay/rayjob-train-reward.yaml")["spec"]["entrypoint"]
    output_dir = re.search(r"output_dir=(\S+)", train).group(1)
    assert cfg.scorer.model_dir == f"{output_dir}/model" == "/mnt/shared/train_reward/model"


def test_readme_names_every_file():
    readme = (CLUSTER / "README.md").read_text()
    for name in ["runtime_env.yaml", *AUTOSCALER_YAMLS, *MANIFESTS]:
        assert name in readme, f"cluster/README.md does not mention {name}"
    assert "RAY_AUTH_MODE=token" in readme
