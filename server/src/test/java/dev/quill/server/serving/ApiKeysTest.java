package dev.quill.server.serving;

import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.assertThat;

import dev.quill.server.protocol.ApiException;
import java.util.List;
import org.junit.jupiter.api.Test;

class ApiKeysTest {

    @Test
    void noKeysMeansNoAuthentication() {
        ApiKeys keys = ApiKeys.of(List.of(), null);
        assertThat(keys.enabled()).isFalse();
        assertThatCode(() -> keys.check(null, null)).doesNotThrowAnyException();
    }

    @Test
    void configuredAndEnvironmentKeysAreBothAccepted() {
        ApiKeys keys = ApiKeys.of(List.of("from-config"), "env-1, env-2");
        assertThatCode(() -> keys.check("Bearer from-config", null)).doesNotThrowAnyException();
        assertThatCode(() -> keys.check(null, "env-2")).doesNotThrowAnyException();
        assertThatCode(() -> keys.check("bearer env-1", null)).doesNotThrowAnyException();
    }

    @Test
    void rejectsMissingAndWrongKeysWithoutSayingThem() {
        ApiKeys keys = ApiKeys.of(List.of("secret"), null);
        assertThatThrownBy(() -> keys.check(null, null))
                .isInstanceOfSatisfying(ApiException.class, e -> assertThat(e.status()).isEqualTo(401));
        assertThatThrownBy(() -> keys.check("Bearer secre", null))
                .isInstanceOfSatisfying(ApiException.class, e -> assertThat(e.getMessage()).doesNotContain("secre"));
        assertThatThrownBy(() -> keys.check("secret", null)).isInstanceOf(ApiException.class);
    }

    @Test
    void theBearerSchemeMayBeFollowedByAColonAsAzureDocumentsIt() {
        ApiKeys keys = ApiKeys.of(List.of("secret"), null);
        assertThatCode(() -> keys.check("Bearer: secret", null)).doesNotThrowAnyException();
        assertThatCode(() -> keys.check("BEARER:secret", null)).doesNotThrowAnyException();
        assertThatCode(() -> keys.check("bearer \tsecret ", null)).doesNotThrowAnyException();
    }

    @Test
    void anAuthorizationHeaderThatIsNotABearerTokenIsSaidToBeSo() {
        ApiKeys keys = ApiKeys.of(List.of("secret"), null);
        for (String header : List.of("Basic c2VjcmV0", "secret", "Bearersecret", "Token secret")) {
            assertThatThrownBy(() -> keys.check(header, null)).as(header).isInstanceOfSatisfying(ApiException.class, e -> {
                assertThat(e.status()).isEqualTo(401);
                assertThat(e.code()).isEqualTo("invalid_api_key");
                assertThat(e.getMessage()).contains("not a Bearer token").contains("Bearer <key>").doesNotContain("secret")
                        .doesNotContain("c2VjcmV0");
            });
        }
        assertThatThrownBy(() -> keys.check("Bearer ", null)).isInstanceOfSatisfying(ApiException.class,
                e -> assertThat(e.getMessage()).contains("no key after 'Bearer'"));
        assertThatThrownBy(() -> keys.check("Bearer:", null)).isInstanceOfSatisfying(ApiException.class,
                e -> assertThat(e.code()).isEqualTo("missing_api_key"));
    }
}
