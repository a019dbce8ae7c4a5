#!/usr/bin/python3
"""A small CRI (runtime.v1) client for the tests: the calls kubelet makes
to run a pod, one per command, over the engine's unix socket.

    cri_client.py --socket SOCK [--timeout SEC] COMMAND ARGS...

    version
    runp POD.json [--handler NAME]   prints the pod sandbox id
    inspectp POD_ID                  prints PodSandboxStatus as JSON
    create POD_ID CTR.json POD.json  prints the container id
    start CTR_ID
    inspect CTR_ID                   prints ContainerStatus as JSON
    exec [--cmd-timeout SEC] CTR_ID CMD...
                                     ExecSync: its stdout and stderr, and its
                                     exit code as this process's
    stop [--grace SEC] CTR_ID
    rm CTR_ID
    stopp POD_ID
    rmp POD_ID

POD.json and CTR.json hold a PodSandboxConfig and a ContainerConfig in the
CRI's JSON form (field names as in the .proto, as crictl's files have them).
The messages come from cri.proto beside this file, compiled with protoc
(Debian's protobuf-compiler) into a temporary directory at each run: Debian
12 ships python3-grpcio and python3-protobuf but no grpc_tools recent
enough to match them.
"""

import argparse
import importlib
import json
import os
import shutil
import subprocess
import sys
import tempfile

import grpc
from google.protobuf import json_format

HERE = os.path.dirname(os.path.abspath(__file__))
SERVICE = "/runtime.v1.RuntimeService/"


def load_messages():
    """Compiles cri.proto and imports the generated module."""
    out = tempfile.mkdtemp(prefix="cri-pb.")
    try:
        subprocess.run(["protoc", "--proto_path=" + HERE,
                        "--python_out=" + out, "cri.proto"], check=True)
        sys.path.insert(0, out)
        return importlib.import_module("cri_pb2")
    finally:
        shutil.rmtree(out, ignore_errors=True)


pb = load_messages()


class Client:
    def __init__(self, socket, timeout):
        self.channel = grpc.insecure_channel("unix:" + os.path.abspath(socket))
        self.timeout = timeout

    def call(self, method, request, response_type):
        rpc = self.channel.unary_unary(
            SERVICE + method,
            request_serializer=lambda m: m.SerializeToString(),
            response_deserializer=response_type.FromString)
        return rpc(request, timeout=self.timeout)


def from_json(path, message_type):
    with open(path) as f:
        return json_format.ParseDict(json.load(f), message_type())


def to_json(message):
    # with the zero values: SANDBOX_READY and CONTAINER_CREATED are 0
    return json.dumps(json_format.MessageToDict(
        message, preserving_proto_field_name=True,
        including_default_value_fields=True), indent=1, sort_keys=True)


def main():
    ap = argparse.ArgumentParser(description="a small CRI test client")
    ap.add_argument("--socket", required=True)
    ap.add_argument("--timeout", type=float, default=120,
                    help="deadline of each call in seconds (a VM boots "
                         "under TCG in seconds: not crictl's 2)")
    sub = ap.add_subparsers(dest="cmd", required=True)
    sub.add_parser("version")
    p = sub.add_parser("runp")
    p.add_argument("config")
    p.add_argument("--handler", default="")
    for name in ("inspectp", "stopp", "rmp"):
        sub.add_parser(name).add_argument("pod_id")
    p = sub.add_parser("create")
    p.add_argument("pod_id")
    p.add_argument("config")
    p.add_argument("pod_config")
    for name in ("start", "inspect", "rm"):
        sub.add_parser(name).add_argument("ctr_id")
    p = sub.add_parser("stop")
    p.add_argument("--grace", type=int, default=0)
    p.add_argument("ctr_id")
    p = sub.add_parser("update")
    p.add_argument("ctr_id")
    p.add_argument("resources", help="a LinuxContainerResources in JSON")
    p = sub.add_parser("exec")
    p.add_argument("--cmd-timeout", type=int, default=0)
    p.add_argument("ctr_id")
    p.add_argument("argv", nargs=argparse.REMAINDER)
    a = ap.parse_args()
    c = Client(a.socket, a.timeout)

    try:
        if a.cmd == "version":
            r = c.call("Version", pb.VersionRequest(version="v1"),
                       pb.VersionResponse)
            print(to_json(r))
        elif a.cmd == "runp":
            req = pb.RunPodSandboxRequest(
                config=from_json(a.config, pb.PodSandboxConfig),
                runtime_handler=a.handler)
            print(c.call("RunPodSandbox", req,
                         pb.RunPodSandboxResponse).pod_sandbox_id)
        elif a.cmd == "inspectp":
            r = c.call("PodSandboxStatus",
                       pb.PodSandboxStatusRequest(pod_sandbox_id=a.pod_id,
                                                  verbose=True),
                       pb.PodSandboxStatusResponse)
            print(to_json(r))
        elif a.cmd == "stopp":
            c.call("StopPodSandbox",
                   pb.StopPodSandboxRequest(pod_sandbox_id=a.pod_id),
                   pb.StopPodSandboxResponse)
        elif a.cmd == "rmp":
            c.call("RemovePodSandbox",
                   pb.RemovePodSandboxRequest(pod_sandbox_id=a.pod_id),
                   pb.RemovePodSandboxResponse)
        elif a.cmd == "create":
            req = pb.CreateContainerRequest(
                pod_sandbox_id=a.pod_id,
                config=from_json(a.config, pb.ContainerConfig),
                sandbox_config=from_json(a.pod_config, pb.PodSandboxConfig))
            print(c.call("CreateContainer", req,
                         pb.CreateContainerResponse).container_id)
        elif a.cmd == "start":
            c.call("StartContainer",
                   pb.StartContainerRequest(container_id=a.ctr_id),
                   pb.StartContainerResponse)
        elif a.cmd == "inspect":
            r = c.call("ContainerStatus",
                       pb.ContainerStatusRequest(container_id=a.ctr_id,
                                                 verbose=True),
                       pb.ContainerStatusResponse)
            print(to_json(r))
        elif a.cmd == "stop":
            c.call("StopContainer",
                   pb.StopContainerRequest(container_id=a.ctr_id,
                                           timeout=a.grace),
                   pb.StopContainerResponse)
        elif a.cmd == "rm":
            c.call("RemoveContainer",
                   pb.RemoveContainerRequest(container_id=a.ctr_id),
                   pb.RemoveContainerResponse)
        elif a.cmd == "update":
            req = pb.UpdateContainerResourcesRequest(
                container_id=a.ctr_id,
                linux=from_json(a.resources, pb.LinuxContainerResources))
            c.call("UpdateContainerResources", req,
                   pb.UpdateContainerResourcesResponse)
        elif a.cmd == "exec":
            argv = a.argv[1:] if a.argv[:1] == ["--"] else a.argv
            r = c.call("ExecSync",
                       pb.ExecSyncRequest(container_id=a.ctr_id, cmd=argv,
                                          timeout=a.cmd_timeout),
                       pb.ExecSyncResponse)
            sys.stdout.buffer.write(r.stdout)
            sys.stderr.buffer.write(r.stderr)
            return r.exit_code
    except grpc.RpcError as e:
        print("%s: %s: %s" % (a.cmd, e.code().name, e.details()),
              file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
