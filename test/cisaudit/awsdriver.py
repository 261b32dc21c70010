# One aws CLI (v1) session that runs many commands: the same awscli
# clidriver the `aws` executable calls, with the same arguments, but one
# Python interpreter for the whole audit instead of one per command (each
# `aws` start-up costs about a second of CPU re-importing botocore).
#
# Protocol: "ready" once awscli is imported, then one JSON array of arguments per stdin line; one JSON object
# {"rc": int, "stdout": str, "stderr": str} per stdout line.
import contextlib
import io
import json
import sys

from awscli.clidriver import create_clidriver

reply = sys.stdout
reply.write("ready\n")
reply.flush()
for line in sys.stdin:
    args = json.loads(line)
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            rc = create_clidriver().main(args)
        except SystemExit as e:  # argument errors exit like the executable
            rc = e.code if isinstance(e.code, int) else 255
    reply.write(json.dumps({"rc": rc, "stdout": out.getvalue(), "stderr": err.getvalue()}) + "\n")
    reply.flush()
