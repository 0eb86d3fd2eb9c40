// SPDX-License-Identifier: GPL-2.0-only
/*
 * The JNI side of dev.kvmharness.sys.JniSyscalls: each function makes one system call through libc and returns
 * its result, or -errno, read before anything else can change it.
 */
#include <errno.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <stdint.h>
#include <unistd.h>

#include "dev_kvmharness_sys_JniSyscalls.h"

static jlong result(long r)
{
	return r < 0 ? -(jlong)errno : (jlong)r;
}

JNIEXPORT jlong JNICALL Java_dev_kvmharness_sys_JniSyscalls_ioctl0(JNIEnv *env, jclass cls, jint fd,
								  jlong request, jlong arg)
{
	(void)env;
	(void)cls;
	return result(ioctl(fd, (unsigned long)request, (unsigned long)arg));
}

JNIEXPORT jlong JNICALL Java_dev_kvmharness_sys_JniSyscalls_read0(JNIEnv *env, jclass cls, jint fd, jlong buf,
								 jlong count)
{
	(void)env;
	(void)cls;
	return result(read(fd, (void *)(uintptr_t)buf, (size_t)count));
}

JNIEXPORT jlong JNICALL Java_dev_kvmharness_sys_JniSyscalls_epollWait0(JNIEnv *env, jclass cls, jint epfd,
								      jlong events, jint maxEvents,
								      jint timeoutMs)
{
	(void)env;
	(void)cls;
	return result(epoll_wait(epfd, (struct epoll_event *)(uintptr_t)events, maxEvents, timeoutMs));
}
