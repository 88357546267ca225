#!/usr/bin/env python3
"""Run every example of the reference pages (docs/<module>.md) against a real server.

Two kinds of examples are checked:

* valkey-cli transcripts: a fenced block whose lines start with the prompt ``127.0.0.1:6379> ``.
  Each command is sent with ``valkey-cli --no-raw`` (which prints replies as the interactive
  client does) and its output must equal the lines below the prompt line exactly.  A reply line
  that ends in ``# varies`` depends on the clock or on chance: only its shape is compared (numbers
  and quoted strings may differ).  A reply whose first line ends in ``# any order`` is unordered (the
  fields of a hash): its elements are compared as a multiset.
* Python snippets: a fenced ``python`` block, run with the ``tair`` client from PyPI.  A line
  ``<expression>  # => <repr>`` is evaluated and ``repr()`` of its value must equal ``<repr>``
  (``# => ...  # varies`` compares the shape only, as above).  Other lines are executed as they are.
  ``port=6379`` is replaced by the checker's port.

Besides, every command that a module registers (COMMAND DOCS names its module) must be named on
that module's page and run by at least one transcript and one Python example there (INFO
commandstats tells which commands each block ran; BF.*/JSON.* names and the EXJSON aliases count for
the command they alias).

Every block starts from an empty database (FLUSHALL before it).  Python blocks of one page share
their variables, so the page's first block may create the client ``t`` that later ones use.

The checker starts its own valkey-server (``$VALKEY_SERVER`` if set) with all six modules loaded with ``tair-compat yes``
(so the BF.* and JSON.* names exist) from ``target/release`` (``--modules DIR``) on a free port (or ``--port``),
unless ``--external`` says a server with the modules already listens on ``--port`` (default 7601).  ``--update`` rewrites the pages with the replies the server gave (review the diff!).

Exit status: 0 when every example matched, 1 otherwise.  Needs: valkey-server, valkey-cli, and
``pip install tair`` for the Python snippets.
"""

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

PROMPT = "127.0.0.1:6379> "
VARIES = "# varies"
ANY_ORDER = "# any order"
MODULES = ["tairstring", "tairhash", "tairzset", "tairbloom", "tairdoc", "tairgis"]
HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)


class Server:
    def __init__(self, port, modules_dir, external):
        self.port = port
        self.proc = None
        self.dir = None
        if external:
            return
        self.dir = tempfile.mkdtemp(prefix="tair-docs-")
        args = [
            os.environ.get("VALKEY_SERVER", "valkey-server"), "--port", str(port), "--bind", "127.0.0.1", "--save", "",
            "--appendonly", "no", "--dir", self.dir, "--logfile", os.path.join(self.dir, "log"),
            "--enable-debug-command", "yes",
        ]
        for m in MODULES:
            so = os.path.join(modules_dir, "lib%s.so" % m)
            if not os.path.exists(so):
                sys.exit("missing %s (build the modules first: make build)" % so)
            args += ["--loadmodule", so, "tair-compat", "yes"]
        self.proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.time() + 20
        while time.time() < deadline:
            if self.proc.poll() is not None:
                log = open(os.path.join(self.dir, "log")).read()
                sys.exit("valkey-server exited:\n" + log[-2000:])
            if self.cli("PING") == ["PONG"]:
                return
            time.sleep(0.1)
        self.stop()
        sys.exit("valkey-server did not answer PING on port %d" % port)

    def cli(self, line):
        out = subprocess.run(
            ["valkey-cli", "-p", str(self.port), "--no-raw"],
            input=(line + "\n").encode(), stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
            timeout=30,
        ).stdout.decode("utf-8", "replace").replace("\r\n", "\n")
        return out.rstrip("\n").split("\n") if out.strip("\n") else []

    def calls(self):
        """Calls per command so far (INFO commandstats), to see which commands the examples ran."""
        import redis

        if getattr(self, "_stats", None) is None:
            self._stats = redis.Redis(host="127.0.0.1", port=self.port)
            self._stats.response_callbacks.clear()
        text = self._stats.execute_command("INFO", "commandstats").decode()
        out = {}
        for m in re.finditer(r"^cmdstat_([^:]+):calls=(\d+)", text, re.M):
            out[m.group(1).upper()] = int(m.group(2))
        return out

    def stop(self):
        if getattr(self, "_stats", None) is not None:
            self._stats.close()
            self._stats = None
        if self.proc is not None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
            self.proc = None
        if self.dir:
            shutil.rmtree(self.dir, ignore_errors=True)
            self.dir = None


def shape(text):
    """A regex that accepts text of the same shape: any numbers, any quoted strings."""
    out, pos = [], 0
    for m in re.finditer(r'"(?:[^"\\]|\\.)*"|-?\d+(?:\.\d+)?(?:e[-+]?\d+)?', text):
        out.append(re.escape(text[pos:m.start()]))
        out.append(r'"(?:[^"\\]|\\.)*"' if m.group().startswith('"') else r"-?\d+(?:\.\d+)?(?:e[-+]?\d+)?")
        pos = m.end()
    out.append(re.escape(text[pos:]))
    return re.compile("^" + "".join(out) + "$")


def unnumbered(line):
    """An array element without valkey-cli's position prefix ("3) ")."""
    return re.sub(r"^\s*\d+\)\s", "", line)


def split_varies(line):
    if line.rstrip().endswith(VARIES):
        return line.rstrip()[: -len(VARIES)].rstrip(), True
    return line, False


def line_matches(expected, got):
    text, varies = split_varies(expected)
    if varies:
        return bool(shape(text).match(got))
    return text == got


def blocks(lines):
    """Yield (kind, start, end) of fenced blocks: kind 'cli' or 'python'; lines[start:end] is the body."""
    i = 0
    while i < len(lines):
        m = re.match(r"^(\s*)```(\w*)\s*$", lines[i])
        if not m:
            i += 1
            continue
        lang = m.group(2)
        j = i + 1
        while j < len(lines) and not re.match(r"^\s*```\s*$", lines[j]):
            j += 1
        body = lines[i + 1 : j]
        if lang == "python":
            yield "python", i + 1, j
        elif any(b.startswith(PROMPT) for b in body):
            yield "cli", i + 1, j
        i = j + 1


def run_cli_block(server, lines, start, end, update, report):
    server.cli("FLUSHALL")
    i = start
    new_body = []
    ok = True
    while i < end:
        line = lines[i]
        if not line.startswith(PROMPT):
            new_body.append(line)
            i += 1
            continue
        cmd = line[len(PROMPT) :]
        j = i + 1
        while j < end and not lines[j].startswith(PROMPT):
            j += 1
        expected = lines[i + 1 : j]
        got = server.cli(cmd)
        if expected and expected[0].rstrip().endswith(ANY_ORDER):
            # an unordered reply (hash fields): compare the elements, not their positions
            first = expected[0].rstrip()[: -len(ANY_ORDER)].rstrip()
            same = sorted(map(unnumbered, [first] + expected[1:])) == sorted(map(unnumbered, got))
        else:
            same = len(expected) == len(got) and all(line_matches(e, g) for e, g in zip(expected, got))
        if not same:
            ok = False
            report("line %d: %s\n  expected: %r\n  got:      %r" % (i + 1, cmd, expected, got))
        new_body.append(line)
        if update and not same:
            marks = [split_varies(e)[1] for e in expected]
            unordered = bool(expected) and expected[0].rstrip().endswith(ANY_ORDER)
            for k, g in enumerate(got):
                mark = "  " + VARIES if k < len(marks) and marks[k] else ""
                new_body.append(g + ("  " + ANY_ORDER if unordered and k == 0 else mark))
        else:
            new_body.extend(expected)
        i = j
    return ok, new_body


def run_python_block(server, ns, lines, start, end, update, report):
    server.cli("FLUSHALL")
    ok = True
    new_body = []
    pending = []

    def flush(lineno):
        nonlocal ok
        if pending:
            code = "\n".join(pending)
            pending.clear()
            try:
                exec(compile(code, "<docs line %d>" % lineno, "exec"), ns)
            except Exception as e:  # a snippet that raises is a failed example
                ok = False
                report("line %d: python block raised %s: %s" % (lineno, type(e).__name__, e))

    for i in range(start, end):
        line = lines[i]
        src = line.replace("port=6379", "port=%d" % server.port)
        m = re.match(r"^(.*?)\s+# => (.*)$", src)
        if not m:
            pending.append(src)
            new_body.append(line)
            continue
        flush(i + 1)
        expr, expected = m.group(1), m.group(2)
        try:
            got = repr(eval(compile(expr.strip(), "<docs line %d>" % (i + 1), "eval"), ns))
        except Exception as e:
            got = "raises %s: %s" % (type(e).__name__, e)
        if not line_matches(expected, got):
            ok = False
            report("line %d: %s\n  expected: %s\n  got:      %s" % (i + 1, expr.strip(), expected, got))
            if update:
                varies = split_varies(expected)[1]
                line = line[: line.index("# => ")] + "# => " + got + ("  " + VARIES if varies else "")
        new_body.append(line)
    flush(end)
    return ok, new_body


def check_page(server, path, update, ran):
    lines = open(path, encoding="utf-8").read().split("\n")
    failures = []
    counts = {"cli": 0, "python": 0}
    ns = {}
    edits = []

    def report(msg):
        failures.append("%s: %s" % (os.path.relpath(path, ROOT), msg))

    before = server.calls()
    for kind, start, end in blocks(lines):
        counts[kind] += 1
        if kind == "cli":
            ok, body = run_cli_block(server, lines, start, end, update, report)
        else:
            ok, body = run_python_block(server, ns, lines, start, end, update, report)
        after = server.calls()
        ran[kind].update(c for c, n in after.items() if n > before.get(c, 0))
        before = after
        if update and not ok:
            edits.append((start, end, body))
    if update and edits:
        for start, end, body in reversed(edits):
            lines[start:end] = body
        with open(path, "w", encoding="utf-8") as f:
            f.write("\n".join(lines))
    client = ns.get("t")
    if client is not None:
        client.close()
    return counts, failures


def undocumented(server, pages, ran):
    """Commands a loaded module registers that its page (docs/<module>.md) never names."""
    import redis

    r = redis.Redis(host="127.0.0.1", port=server.port)
    r.response_callbacks.clear()
    docs = r.execute_command("COMMAND", "DOCS")
    r.close()
    texts = {os.path.basename(p)[:-3]: open(p, encoding="utf-8").read() for p in pages}
    missing, checked = [], 0
    for name, doc in zip(docs[0::2], docs[1::2]):
        fields = dict(zip(doc[0::2], doc[1::2]))
        module = fields.get(b"module")
        if module is None or module.decode() not in texts:
            continue
        checked += 1
        cmd = name.decode().upper()
        word = re.escape(cmd)
        if not re.search(r"(?<![A-Z0-9._])" + word + r"(?![A-Z0-9._])", texts[module.decode()]):
            missing.append("docs/%s.md: command %s is not documented" % (module.decode(), cmd))
        for kind, what in (("cli", "valkey-cli transcript"), ("python", "Python example")):
            if canonical(cmd) not in {canonical(c) for c in ran[kind]}:
                missing.append("docs/%s.md: no %s runs %s" % (module.decode(), what, cmd))
    return checked, sorted(missing)


# Names that run the same code: an example of one covers the others.
ALIASES = {"EXJSONFORGET": "EXJSONDEL", "EXJSONARRAYAPPEND": "EXJSONARRAPPEND", "EXJSONARRPUSH": "EXJSONARRAPPEND"}


def canonical(cmd):
    if cmd.startswith("BF."):
        cmd = "TFBF" + cmd[3:]
    elif cmd.startswith("JSON."):
        cmd = "EXJSON" + cmd[5:]
    return ALIASES.get(cmd, cmd)


def free_port():
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("pages", nargs="*", help="pages to check (default: docs/*.md)")
    ap.add_argument("--port", type=int, help="default: a free port (7601 with --external)")
    ap.add_argument("--modules", default=os.path.join(ROOT, "target", "release"))
    ap.add_argument("--external", action="store_true", help="use a server already on --port")
    ap.add_argument("--update", action="store_true", help="write the server's replies into the pages")
    a = ap.parse_args()
    try:
        import tair  # noqa: F401  (the Python snippets need it)
    except ImportError:
        sys.exit("the Python examples need the tair client: pip install tair")
    pages = a.pages or sorted(
        os.path.join(HERE, p) for p in os.listdir(HERE) if p.endswith(".md") and p != "README.md"
    )
    port = a.port or (7601 if a.external else free_port())
    server = Server(port, a.modules, a.external)
    total_failures = []
    ran = {"cli": set(), "python": set()}
    try:
        for page in pages:
            counts, failures = check_page(server, page, a.update, ran)
            total_failures += failures
            print("%-28s %3d transcripts, %3d python blocks, %s" % (
                os.path.relpath(page, ROOT), counts["cli"], counts["python"],
                "ok" if not failures else "%d FAILED" % len(failures)))
        checked, missing = undocumented(server, pages, ran)
        print("%d module commands named on their pages, each run by a transcript and a Python example: %s" % (
            checked, "ok" if not missing else "%d missing" % len(missing)))
        total_failures += missing
    finally:
        server.stop()
    for f in total_failures:
        print(f)
    return 1 if total_failures else 0


if __name__ == "__main__":
    sys.exit(main())
