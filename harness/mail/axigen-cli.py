"""The harness's client of Axigen's CLI (127.0.0.1:7000), run on a node as root.

It follows the CLI as Axigen's own Python module drives it (axigen/automation-tools lib/cli2.py):
CRLF lines; after the greeting a `<login> ` prompt; `USER <name>` answered by `<password> `; every
reply after login ends with a status line (`+OK: ...` or `-ERR: ...`) and the prompt of the
context the command left it in (`<#> `, `<domain-create#> `...). Each command is sent only after
the previous reply's prompt, its status is checked, and so is the context it lands in: a command
the CLI refuses, or one that leaves the CLI in another context than the conversation expects,
stops the conversation with the command (a password never shown) and Axigen's own words.

Usage: axigen-cli.py <conversation file> [host port timeout-seconds]
The conversation file holds one step a line: `<expected prompt>\t<command>`; a command that is a
secret (the admin password) is written `<expected prompt>\t!<command>`; `<*>` accepts any prompt.
Exit 0: every step answered as expected. Exit 1: refused or unexpected (said on stderr).
Exit 3: the CLI did not answer within the timeout.
"""
import re
import socket
import sys
import time

PROMPT = re.compile(r"<([A-Za-z0-9-]*#?)> $")


def read_reply(sock, deadline):
    """Everything up to and including the next prompt (a `<...> ` at the end of what was read)."""
    data = b""
    while True:
        text = data.decode(errors="replace")
        if PROMPT.search(text):
            return text
        if time.time() > deadline:
            raise TimeoutError(f"no prompt within the timeout (read so far: {text[-200:]!r})")
        sock.settimeout(max(0.1, deadline - time.time()))
        chunk = sock.recv(65536)
        if not chunk:
            return text  # the CLI closed the connection (QUIT)
        data += chunk


def status_of(reply):
    """The reply's status line (`+OK: ...` or `-ERR: ...`), or None when it has none (the login prompts)."""
    lines = [line for line in reply.split("\r\n") if line.startswith(("+OK", "-ERR"))]
    return lines[-1] if lines else None


def main(argv):
    steps = []
    with open(argv[1]) as f:
        for line in f.read().split("\n"):
            if not line:
                continue
            expected, _, command = line.partition("\t")
            secret = command.startswith("!")
            steps.append((expected, command[1:] if secret else command, secret))
    host = argv[2] if len(argv) > 2 else "127.0.0.1"
    port = int(argv[3]) if len(argv) > 3 else 7000
    timeout = float(argv[4]) if len(argv) > 4 else 120
    deadline = time.time() + timeout
    while True:
        try:
            sock = socket.create_connection((host, port), timeout=5)
            break
        except OSError:
            if time.time() > deadline:
                print(f"Axigen's CLI did not answer on {host}:{port} within {timeout:.0f} s", file=sys.stderr)
                return 3
            time.sleep(1)
    try:
        greeting = read_reply(sock, time.time() + 30)
        if not greeting.endswith("<login> "):
            print(f"unexpected greeting from Axigen's CLI: {greeting.strip()[:200]!r}", file=sys.stderr)
            return 1
        for expected, command, secret in steps:
            shown = "(the password)" if secret else command
            sock.sendall(command.encode() + b"\r\n")
            reply = read_reply(sock, time.time() + 60)
            status = status_of(reply)
            if status and status.startswith("-ERR"):
                print(f"Axigen refused `{shown}`: {status}", file=sys.stderr)
                return 1
            prompt = PROMPT.search(reply)
            landed = f"<{prompt.group(1)}>" if prompt else "(connection closed)"
            # `<*>`: a context Axigen's documentation does not name (a listener's): any prompt, the status decides.
            if landed != expected and not (expected == "<*>" and prompt):
                print(f"after `{shown}` Axigen's CLI is at {landed}, not {expected} ({status or 'no status line'})", file=sys.stderr)
                return 1
            print(f"{landed} {shown}: {status or 'ok'}")
        return 0
    except TimeoutError as error:
        print(f"Axigen's CLI stopped answering: {error}", file=sys.stderr)
        return 3
    finally:
        sock.close()


if __name__ == "__main__":
    sys.exit(main(sys.argv))
