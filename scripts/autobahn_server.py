# Launch the Autobahn|Testsuite 0.8.2 fuzzingserver (Python 2.7) bound to 127.0.0.1 only.
#
# Stock wstest listens on all interfaces whatever the spec's "url" says (autobahn 0.10's listenWS
# passes interface=''), so this launcher forces reactor.listenTCP onto loopback before wstest runs.
# Usage: python2.7 autobahn_server.py SITE_PACKAGES SPEC.json
import os
import site
import sys

site.addsitedir(sys.argv[1])

from twisted.internet import reactor  # noqa: E402

_listen_tcp = reactor.listenTCP


def _loopback_listen_tcp(port, factory, backlog=50, interface=''):
    return _listen_tcp(port, factory, backlog, '127.0.0.1')


reactor.listenTCP = _loopback_listen_tcp

from autobahntestsuite import wstest  # noqa: E402

sys.argv = ['wstest', '-m', 'fuzzingserver', '-s', sys.argv[2], '-u', '0']
os.environ.setdefault('PYTHONUNBUFFERED', '1')
sys.exit(wstest.run())
