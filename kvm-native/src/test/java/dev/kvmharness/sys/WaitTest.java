// SPDX-License-Identifier: GPL-2.0-only
package dev.kvmharness.sys;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/** poll(2) and epoll over an eventfd: nothing ready until it is signalled, then readable with its data. */
class WaitTest {

    @Test
    void pollSeesTheEventfdOnceSignalled() {
        try (EventFd stop = new EventFd(); EventFd other = new EventFd()) {
            Poll poll = new Poll(other.fd(), stop.fd());
            assertThat(poll.await(0)).isZero();
            stop.signal();
            assertThat(poll.await(1000)).isEqualTo(1);
            assertThat(poll.readable(1)).isTrue();
            assertThat(poll.readable(0)).isFalse();
            assertThat(poll.failed(1)).isFalse();
        }
    }

    @Test
    void epollReturnsTheDataOfTheReadyFd() {
        try (EventFd a = new EventFd(); EventFd b = new EventFd(); Epoll epoll = new Epoll()) {
            epoll.add(a.fd(), LibC.EPOLLIN | LibC.EPOLLEXCLUSIVE, 7);
            epoll.add(b.fd(), LibC.EPOLLIN, 9);
            assertThat(epoll.await(0)).isEqualTo(-1);
            b.signal();
            assertThat(epoll.await(1000)).isEqualTo(9);
            assertThat(epoll.lastEvents() & LibC.EPOLLIN).isNotZero();
        }
    }
}
