/* The raw TCP floor for bench/run.sh: the same bytes as B1/B2, through a plain TCP echo, with no
 * WebSocket framing, no async runtime and no parsing beyond counting newlines.
 *   tcpfloor PORT stream N   copy stdin to the socket and the socket to stdout until N lines came back
 *   tcpfloor PORT oneshot    connect, send "hello\n", print the echoed line, close
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static int dial(int port) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {0};
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof a) < 0) { perror("connect"); exit(3); }
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    return fd;
}

static void write_all(int fd, const char *p, ssize_t n) {
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w <= 0) { perror("write"); exit(1); }
        p += w; n -= w;
    }
}

int main(int argc, char **argv) {
    if (argc < 3) { fprintf(stderr, "usage: tcpfloor PORT stream N | PORT oneshot\n"); return 2; }
    int fd = dial(atoi(argv[1]));
    static char buf[1 << 16];
    if (strcmp(argv[2], "oneshot") == 0) {
        write_all(fd, "hello\n", 6);
        ssize_t got = 0, n;
        while ((n = read(fd, buf + got, sizeof buf - got)) > 0) {
            got += n;
            if (memchr(buf, '\n', got)) break;
        }
        write_all(1, buf, got);
        close(fd);
        return 0;
    }
    long want = argc > 3 ? atol(argv[3]) : 0, lines = 0;
    static char in[1 << 16];
    ssize_t pend = 0, off = 0;
    int in_open = 1;
    /* Never block on a write: the echo must keep draining or both sides stall on full buffers. */
    while (lines < want) {
        struct pollfd p[2] = {{fd, POLLIN | (pend ? POLLOUT : 0), 0}, {0, POLLIN, 0}};
        if (poll(p, in_open && !pend ? 2 : 1, -1) < 0) { perror("poll"); return 1; }
        if (p[0].revents & (POLLIN | POLLHUP | POLLERR)) {
            ssize_t n = read(fd, buf, sizeof buf);
            if (n <= 0) break;
            for (ssize_t i = 0; i < n; i++) lines += buf[i] == '\n';
            write_all(1, buf, n);
        }
        if (pend && (p[0].revents & POLLOUT)) {
            ssize_t w = send(fd, in + off, pend, MSG_DONTWAIT);
            if (w > 0) { off += w; pend -= w; }
        }
        if (in_open && !pend && p[1].revents) {
            ssize_t n = read(0, in, sizeof in);
            if (n <= 0) { in_open = 0; continue; }
            pend = n; off = 0;
        }
    }
    close(fd);
    return lines == want ? 0 : 1;
}
