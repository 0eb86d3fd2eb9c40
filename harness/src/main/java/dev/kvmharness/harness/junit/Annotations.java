// SPDX-License-Identifier: GPL-2.0-only
package dev.kvmharness.harness.junit;

import java.lang.annotation.Annotation;
import java.lang.reflect.AnnotatedElement;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.platform.commons.support.AnnotationSupport;

/**
 * Where the extension's annotations are looked up: the test method first, then its class, then the classes
 * enclosing that one (a {@code @Nested} class inherits its outer class's settings).
 */
final class Annotations {
    private Annotations() {
    }

    /** The method, its class, the enclosing classes, nearest first. */
    static List<AnnotatedElement> scopes(ExtensionContext context) {
        List<AnnotatedElement> scopes = new ArrayList<>();
        context.getTestMethod().ifPresent(scopes::add);
        for (Class<?> c = context.getTestClass().orElse(null); c != null; c = c.getEnclosingClass()) {
            scopes.add(c);
        }
        return scopes;
    }

    /** The nearest {@code type} annotation (also as a meta-annotation). */
    static <A extends Annotation> Optional<A> nearest(ExtensionContext context, Class<A> type) {
        for (AnnotatedElement e : scopes(context)) {
            Optional<A> a = AnnotationSupport.findAnnotation(e, type);
            if (a.isPresent()) {
                return a;
            }
        }
        return Optional.empty();
    }

    /** Every {@code type} annotation from the method outwards. */
    static <A extends Annotation> List<A> all(ExtensionContext context, Class<A> type) {
        List<A> found = new ArrayList<>();
        for (AnnotatedElement e : scopes(context)) {
            AnnotationSupport.findAnnotation(e, type).ifPresent(found::add);
        }
        return found;
    }
}
