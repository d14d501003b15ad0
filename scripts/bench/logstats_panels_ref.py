"""An independent reference for `crew logstats --panels all` on combined logs (the bench's).

Written from the README, not from crew's code: a line is `client ident user [time] "request"
status bytes "referrer" "agent"`; the client is the first address of the field (an
X-Forwarded-For list gives its first), IPv6 in any spelling is one client; a path is the
request target without its query; bytes `-` is 0; hours are each line's own hour. Lines
that do not match are not counted. Prints one JSON document on stdout.

    python3 logstats_panels_ref.py FILE... [--json-out FILE]

With --json-out, also writes the same requests as nginx JSON lines (one object a line,
garbage lines kept as they are), so the bench can time JSON against combined on equal
content.
"""

import ipaddress
import json
import re
import sys

LINE = re.compile(
    r'^(\S+(?:, \S+)*) \S+ \S+ \[(\d\d)/(\w{3})/(\d{4}):(\d\d):(\d\d:\d\d) ([+-]\d{4})\] '
    r'"([^"]*)" (\d{3}) (\d+|-) "([^"]*)" "([^"]*)"$'
)
MONTHS = {m: i + 1 for i, m in enumerate("Jan Feb Mar Apr May Jun Jul Aug Sep Oct Nov Dec".split())}


def client_of(field):
    first = field.split(",")[0].strip()
    return ipaddress.ip_address(first).compressed


def main():
    args = sys.argv[1:]
    json_out = None
    if "--json-out" in args:
        at = args.index("--json-out")
        json_out = open(args[at + 1], "w", encoding="utf-8")
        del args[at : at + 2]
    status, paths, not_found, hours, agents, referrers = {}, {}, {}, {}, {}, {}
    served = 0
    lines = 0
    for name in args:
        with open(name, encoding="utf-8", newline="\n") as f:
            for raw in f:
                line = raw.rstrip("\n")
                m = LINE.match(line)
                if not m:
                    if json_out:
                        json_out.write(line + "\n")
                    continue
                field, day, mon, year, hour, rest, offset, request, code, size, ref, agent = m.groups()
                lines += 1
                client = client_of(field)
                size_n = 0 if size == "-" else int(size)
                served += size_n
                status[code] = status.get(code, 0) + 1
                parts = request.split(" ")
                path = parts[1].split("?")[0] if len(parts) == 3 else None
                if path is not None:
                    entry = paths.setdefault(path, [0, 0, set()])
                    entry[0] += 1
                    entry[1] += size_n
                    entry[2].add(client)
                    if code.startswith("4"):
                        not_found[path] = not_found.get(path, 0) + 1
                hours[hour] = hours.get(hour, 0) + 1
                agents[agent] = agents.get(agent, 0) + 1
                key = "direct" if ref == "-" else ref
                referrers[key] = referrers.get(key, 0) + 1
                if json_out:
                    iso = f"{year}-{MONTHS[mon]:02d}-{day}T{hour}:{rest}{offset[:3]}:{offset[3:]}"
                    json_out.write(
                        json.dumps(
                            {
                                "remote_addr": field.split(",")[0],
                                "time_iso8601": iso,
                                "request": request,
                                "status": int(code),
                                "body_bytes_sent": size_n,
                                "http_referer": ref,
                                "http_user_agent": agent,
                            },
                            separators=(",", ":"),
                        )
                        + "\n"
                    )
    if json_out:
        json_out.close()
    json.dump(
        {
            "requests": lines,
            "status": status,
            "paths": {p: [r, b, len(c)] for p, (r, b, c) in paths.items()},
            "not_found": not_found,
            "hours": hours,
            "bytes": served,
            "agents": agents,
            "referrers": referrers,
        },
        sys.stdout,
    )


main()
