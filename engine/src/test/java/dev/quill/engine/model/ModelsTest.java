package dev.quill.engine.model;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.quill.engine.gguf.GgufException;
import dev.quill.engine.gguf.GgufFile;
import dev.quill.engine.gguf.GgufReader;
import dev.quill.engine.gguf.GgufWriter;
import dev.quill.engine.gguf.GgufWriter.TensorSpec;
import dev.quill.engine.gguf.Metadata;
import dev.quill.engine.gguf.TensorInfo;
import dev.quill.engine.model.TestModels.Variant;
import dev.quill.engine.tensor.GgmlType;
import dev.quill.engine.tensor.ThreadPool;
import java.lang.foreign.ValueLayout;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Loading checks every tensor against the metadata and names the file, the tensor and the expectation. */
class ModelsTest {

    private static final ThreadPool POOL = new ThreadPool(1);

    @TempDir
    Path dir;

    @AfterAll
    static void closePool() {
        POOL.close();
    }

    @Test
    void loadsAModelAndItsConfiguration() {
        try (Transformer model = Models.load(TestModels.file(Variant.QWEN3_QK_NORM, GgmlType.Q8_0), POOL)) {
            ModelConfig c = model.config();
            assertThat(c.architecture()).isEqualTo(Architecture.QWEN3);
            assertThat(c.headDim()).isEqualTo(128);
            assertThat(c.kvHeads()).isEqualTo(2);
        }
    }

    @Test
    void missingTensor() {
        Path broken = rewrite("missing.gguf", md -> { }, tensors -> tensors.removeIf(t -> t.name().equals("blk.1.ffn_up.weight")));
        assertThatThrownBy(() -> Models.load(broken, POOL)).isInstanceOf(GgufException.class)
                .hasMessageContaining(broken.toString()).hasMessageContaining("'blk.1.ffn_up.weight'")
                .hasMessageContaining("missing").hasMessageContaining("[256, 512]");
    }

    @Test
    void tensorWithTheWrongShape() {
        Path broken = rewrite("shape.gguf", md -> md.putUInt32("llama.feed_forward_length", 768), t -> { });
        assertThatThrownBy(() -> Models.load(broken, POOL)).isInstanceOf(GgufException.class)
                .hasMessageContaining(broken.toString()).hasMessageContaining("'blk.0.ffn_gate.weight'")
                .hasMessageContaining("has shape [256, 512]").hasMessageContaining("implies [256, 768]");
    }

    @Test
    void tensorOfAnUnsupportedType() {
        Path broken = rewrite("type.gguf", md -> { }, tensors -> tensors.replaceAll(t -> t.name().equals("blk.0.attn_k.weight")
                ? new TensorSpec(t.name(), t.dims(), GgmlType.Q4_1, () -> new byte[(int) GgmlType.Q4_1.bytesFor(256 * 128)])
                : t));
        assertThatThrownBy(() -> Models.load(broken, POOL)).isInstanceOf(GgufException.class)
                .hasMessageContaining(broken.toString()).hasMessageContaining("'blk.0.attn_k.weight'")
                .hasMessageContaining("Q4_1").hasMessageContaining("Q8_0");
    }

    @Test
    void unsupportedArchitectureNamesTheFile() {
        Path broken = rewrite("arch.gguf", md -> md.putString("general.architecture", "mamba"), t -> { });
        assertThatThrownBy(() -> Models.load(broken, POOL)).isInstanceOf(GgufException.class)
                .hasMessageContaining(broken.toString()).hasMessageContaining("'mamba'");
    }

    @Test
    void tiedEmbeddingsNeedNoOutputTensor() {
        try (GgufFile file = GgufReader.open(TestModels.file(Variant.QWEN2_BIAS_TIED, GgmlType.F16))) {
            assertThat(file.tensors()).doesNotContainKey("output.weight");
            try (Transformer model = Models.load(file, POOL)) {
                assertThat(model.vocabSize()).isEqualTo(512);
            }
        }
    }

    /** Copies the Llama test model with edited metadata and tensor list. */
    private Path rewrite(String name, Consumer<Metadata> editMetadata, Consumer<List<TensorSpec>> editTensors) {
        Path out = dir.resolve(name);
        try (GgufFile src = GgufReader.open(TestModels.file(Variant.LLAMA_GQA, GgmlType.F32))) {
            Metadata md = new Metadata();
            src.metadata().entries().forEach((k, v) -> {
                if (v.elementType() != null) md.putArray(k, v.elementType(), v.value());
                else md.put(k, v.type(), v.value());
            });
            editMetadata.accept(md);
            List<TensorSpec> tensors = new ArrayList<>();
            for (TensorInfo t : src.tensors().values()) {
                byte[] bytes = src.data(t).toArray(ValueLayout.JAVA_BYTE);
                tensors.add(new TensorSpec(t.name(), t.dims(), t.type(), () -> bytes));
            }
            editTensors.accept(tensors);
            GgufWriter.write(out, md, tensors);
        }
        return out;
    }
}
