"""Stand-ins for the app's load balancer and its two colours, on loopback, for a demo or a test
against the AWS emulator (which routes no traffic).

Each local port plays one listener of the app's load balancer (`--listener LOCAL:PORT`, e.g.
18080:80 for the live listener): for every request it reads that listener's forward action
from the ELBv2 API (weights included), picks a target group by weight (smooth weighted round
robin), and answers as that colour's app would: `/health` and `/version` (the colour and the
image its ECS service's task definition runs). So a check through the test listener reaches
the colour under test, and a canary's weights show in the answers.

A colour answers /health with 500 while a file `unhealthy-<X>` exists in `--control`, where X
is the colour or a part of the image it runs (a digest's hex, say): a failing release.

Usage: python standin.py --endpoint http://127.0.0.1:PORT --app web --control DIR \
           --listener 18080:80 --listener 18081:8080
"""

import argparse
import json
import os
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import boto3


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--endpoint", required=True)
    p.add_argument("--app", required=True)
    p.add_argument("--control", required=True)
    p.add_argument("--listener", action="append", required=True)
    a = p.parse_args()
    kw = dict(endpoint_url=a.endpoint, region_name="us-east-1",
              aws_access_key_id="standin", aws_secret_access_key="standin")
    elb = boto3.client("elbv2", **kw)
    ecs = boto3.client("ecs", **kw)
    lock = threading.Lock()
    current = {}  # smooth weighted round robin state, per listener port

    def forward(port):
        lb = elb.describe_load_balancers(Names=[a.app[:32]])["LoadBalancers"][0]["LoadBalancerArn"]
        for l in elb.describe_listeners(LoadBalancerArn=lb)["Listeners"]:
            if l["Port"] != port:
                continue
            for act in l["DefaultActions"]:
                if act["Type"] != "forward":
                    continue
                groups = act.get("ForwardConfig", {}).get("TargetGroups")
                if groups:
                    return [(g["TargetGroupArn"], int(g.get("Weight", 1))) for g in groups]
                return [(act["TargetGroupArn"], 1)]
        return []

    def pick(port, groups):
        groups = [(arn, w) for arn, w in groups if w > 0]
        if not groups:
            return None
        with lock:
            state = current.setdefault(port, {})
            total = sum(w for _, w in groups)
            for arn, w in groups:
                state[arn] = state.get(arn, 0) + w
            best = max(groups, key=lambda g: state[g[0]])[0]
            state[best] -= total
            return best

    def colour_of(tg_arn):
        name = elb.describe_target_groups(TargetGroupArns=[tg_arn])["TargetGroups"][0]["TargetGroupName"]
        return name.rsplit("-", 1)[-1]

    def image_of(colour):
        svc = ecs.describe_services(cluster=a.app, services=[f"{a.app}-{colour}"])["services"][0]
        td = ecs.describe_task_definition(taskDefinition=svc["taskDefinition"])["taskDefinition"]
        return td["containerDefinitions"][0]["image"]

    def unhealthy(colour, image):
        try:
            names = os.listdir(a.control)
        except FileNotFoundError:
            return False
        for n in names:
            if n.startswith("unhealthy-"):
                x = n[len("unhealthy-"):]
                if x == colour or (x and x in image):
                    return True
        return False

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def answer(self, code, body, colour=None):
            data = body.encode()
            self.send_response(code)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            if colour:
                self.send_header("X-Colour", colour)
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self):
            port = self.server.listener_port
            try:
                tg = pick(port, forward(port))
                if tg is None:
                    return self.answer(503, json.dumps({"error": f"listener {port} forwards nowhere"}))
                colour = colour_of(tg)
                image = image_of(colour)
            except Exception as e:  # the emulator is gone or the app is not deployed yet
                return self.answer(502, json.dumps({"error": str(e)}))
            body = {"colour": colour, "image": image}
            if self.path.startswith("/health"):
                if unhealthy(colour, image):
                    return self.answer(500, json.dumps({**body, "status": "failing"}), colour)
                return self.answer(200, json.dumps({**body, "status": "ok"}), colour)
            if self.path.startswith("/version"):
                return self.answer(200, json.dumps(body), colour)
            return self.answer(404, json.dumps({"error": "not found"}), colour)

    servers = []
    for spec in a.listener:
        local, port = spec.split(":")
        s = ThreadingHTTPServer(("127.0.0.1", int(local)), Handler)
        s.listener_port = int(port)
        servers.append(s)
        threading.Thread(target=s.serve_forever, daemon=True).start()
    print("ready", flush=True)
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    sys.exit(main())
