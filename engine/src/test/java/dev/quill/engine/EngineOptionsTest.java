package dev.quill.engine;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class EngineOptionsTest {

    @Test
    void defaultsAreTheDocumentedOnes() {
        EngineOptions o = EngineOptions.defaults();
        assertThat(o.threads()).isEqualTo(Runtime.getRuntime().availableProcessors());
        assertThat(o.contextLength()).isZero();
        assertThat(o.kvCacheBytes()).isEqualTo(512L << 20);
        assertThat(o.blockSize()).isEqualTo(16);
        assertThat(o.kvF16()).isTrue();
        assertThat(o.maxBatchTokens()).isEqualTo(512);
        assertThat(o.maxSequences()).isEqualTo(64);
        assertThat(o.maxQueue()).isEqualTo(256);
        assertThat(o.prefixCaching()).isTrue();
        assertThat(o.warmup()).isTrue();
    }

    @Test
    void withersChangeOneOptionEach() {
        EngineOptions o = EngineOptions.defaults().withThreads(3).withBlockSize(32).withMaxQueue(1).withKvF16(false)
                .withWarmup(false);
        assertThat(o.threads()).isEqualTo(3);
        assertThat(o.blockSize()).isEqualTo(32);
        assertThat(o.maxQueue()).isEqualTo(1);
        assertThat(o.kvF16()).isFalse();
        assertThat(o.warmup()).isFalse();
        assertThat(o.maxBatchTokens()).isEqualTo(512);
    }

    @Test
    void rejectsNonsenseWithTheOptionsName() {
        assertThatThrownBy(() -> EngineOptions.defaults().withThreads(0)).hasMessageContaining("threads");
        assertThatThrownBy(() -> EngineOptions.defaults().withBlockSize(0)).hasMessageContaining("block size");
        assertThatThrownBy(() -> EngineOptions.defaults().withMaxBatchTokens(0)).hasMessageContaining("max batch tokens");
        assertThatThrownBy(() -> EngineOptions.defaults().withKvCacheBytes(0)).hasMessageContaining("KV cache size");
        assertThatThrownBy(() -> EngineOptions.defaults().withMaxQueue(0)).hasMessageContaining("max queue");
    }

    @Test
    void parsesMemorySizesInBinaryUnits() {
        assertThat(EngineOptions.parseBytes("512MB")).isEqualTo(512L << 20);
        assertThat(EngineOptions.parseBytes("512m")).isEqualTo(512L << 20);
        assertThat(EngineOptions.parseBytes("2GB")).isEqualTo(2L << 30);
        assertThat(EngineOptions.parseBytes("1.5GiB")).isEqualTo(3L << 29);
        assertThat(EngineOptions.parseBytes("64 KiB")).isEqualTo(64L << 10);
        assertThat(EngineOptions.parseBytes("1048576")).isEqualTo(1L << 20);
        assertThat(EngineOptions.parseBytes("100B")).isEqualTo(100);
    }

    @Test
    void rejectsWhatIsNotASize() {
        for (String bad : new String[] {"", "MB", "-5MB", "12XB", "1.2.3G", "5iB", "0"}) {
            assertThatThrownBy(() -> EngineOptions.parseBytes(bad))
                    .as(bad)
                    .isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining("'" + bad + "'");
        }
    }
}
