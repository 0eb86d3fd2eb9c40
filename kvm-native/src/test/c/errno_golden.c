/* SPDX-License-Identifier: GPL-2.0-only */
/* Prints the errno numbers sys.Errno hard-codes, from the kernel UAPI headers (asm-generic/errno*.h); ci/gen-abi-golden.sh regenerates src/test/resources/kernel-errno.txt from it. */
#include <stdio.h>
#include <linux/errno.h>
#define P(x) printf("%s=%d\n", #x, x)
int main(void){
P(EPERM);P(ENOENT);P(ESRCH);P(EINTR);P(EIO);P(ENXIO);P(E2BIG);P(ENOEXEC);P(EBADF);P(ECHILD);P(EAGAIN);P(ENOMEM);P(EACCES);P(EFAULT);P(ENOTBLK);P(EBUSY);P(EEXIST);P(EXDEV);P(ENODEV);P(ENOTDIR);P(EISDIR);P(EINVAL);P(ENFILE);P(EMFILE);P(ENOTTY);P(ETXTBSY);P(EFBIG);P(ENOSPC);P(ESPIPE);P(EROFS);P(EMLINK);P(EPIPE);P(EDOM);P(ERANGE);P(ENOSYS);P(EOPNOTSUPP);P(ETIMEDOUT);P(EHWPOISON);
return 0;}
