// SPDX-License-Identifier: GPL-2.0-only
package dev.kvmharness.selftests;

import java.io.IOException;
import java.nio.charset.CharacterCodingException;
import java.nio.file.AccessDeniedException;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;

/**
 * Files named on the command line, checked before a run: an output path the run could not write is a usage
 * error up front, not a failure after minutes of work whose result is then lost.
 */
final class CliFiles {
    private CliFiles() {
    }

    /** {@code file} (the value of {@code option}, or null when not given) can be created or overwritten. */
    static void checkWritable(String option, Path file) {
        if (file == null) {
            return;
        }
        Path abs = file.toAbsolutePath();
        Path dir = abs.getParent();
        String problem = null;
        if (Files.isDirectory(abs)) {
            problem = "it is a directory";
        } else if (Files.exists(abs)) {
            problem = Files.isWritable(abs) ? null : "Permission denied";
        } else if (!Files.exists(dir)) {
            problem = "directory " + dir + " does not exist";
        } else if (!Files.isDirectory(dir)) {
            problem = dir + " is not a directory";
        } else if (!Files.isWritable(dir)) {
            problem = "directory " + dir + " is not writable";
        }
        if (problem != null) {
            throw new IllegalArgumentException("cannot write " + option + " " + file + ": " + problem);
        }
    }

    /**
     * As {@link #checkWritable} for a command that creates the file's missing directories itself: the nearest
     * existing ancestor must be a directory it can create them in.
     */
    static void checkCreatable(String option, Path file) {
        if (file == null) {
            return;
        }
        Path dir = file.toAbsolutePath().getParent();
        while (!Files.exists(dir)) {
            dir = dir.getParent();
        }
        if (dir.equals(file.toAbsolutePath().getParent())) {
            checkWritable(option, file);
        } else if (!Files.isDirectory(dir) || !Files.isWritable(dir)) {
            throw new IllegalArgumentException("cannot write " + option + " " + file + ": cannot create directories in "
                    + dir + (Files.isDirectory(dir) ? " (not writable)" : " (not a directory)"));
        }
    }

    /** Why a file could not be read, in the system's words (NoSuchFileException's message is only the path). */
    static String reason(IOException e) {
        if (e instanceof NoSuchFileException) {
            return "No such file or directory";
        }
        if (e instanceof AccessDeniedException) {
            return "Permission denied";
        }
        if (e instanceof FileSystemException f && f.getReason() != null) {
            return f.getReason();
        }
        if (e instanceof CharacterCodingException) {
            return "not UTF-8 text";
        }
        return e.getMessage();
    }
}
