package dev.quill.server.protocol;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class RequestParserTest {

    private static JsonNode json(String text) {
        return Json.parse(text.replace('\'', '"').getBytes());
    }

    private static CompletionRequest completion(String body) {
        return RequestParser.completion(json(body), ExtraParameters.ERROR);
    }

    private static ChatCompletionRequest chat(String body) {
        return RequestParser.chat(json(body), ExtraParameters.ERROR);
    }

    private static ApiException completionError(String body) {
        try {
            completion(body);
        } catch (ApiException e) {
            return e;
        }
        throw new AssertionError("expected a validation error for " + body);
    }

    private static ApiException chatError(String body) {
        try {
            chat(body);
        } catch (ApiException e) {
            return e;
        }
        throw new AssertionError("expected a validation error for " + body);
    }

    @Nested
    class Completions {

        @Test
        void appliesDefaultsWhenOnlyThePromptIsGiven() {
            CompletionRequest request = completion("{'prompt':'Hello'}");
            assertThat(request.prompts()).containsExactly(new Prompt.Text("Hello"));
            GenerationOptions o = request.options();
            assertThat(o.maxTokens()).isNull();
            assertThat(o.n()).isEqualTo(1);
            assertThat(o.candidates()).isEqualTo(1);
            assertThat(o.stream()).isFalse();
            assertThat(o.stop()).isEmpty();
            assertThat(o.truncateToContext()).isFalse();
            assertThat(o.responseFormat()).isEqualTo(ResponseFormat.TEXT);
            assertThat(o.extensions()).isEqualTo(Extensions.DEFAULTS);
            assertThat(request.echo()).isFalse();
            assertThat(request.logprobs()).isNull();
        }

        @Test
        void readsEveryPromptForm() {
            assertThat(completion("{'prompt':['a','b']}").prompts())
                    .containsExactly(new Prompt.Text("a"), new Prompt.Text("b"));
            Prompt tokens = completion("{'prompt':[1,2,3]}").prompts().getFirst();
            assertThat(((Prompt.Tokens) tokens).ids()).containsExactly(1, 2, 3);
            List<Prompt> arrays = completion("{'prompt':[[1],[2,3]]}").prompts();
            assertThat(arrays).hasSize(2);
            assertThat(((Prompt.Tokens) arrays.get(1)).ids()).containsExactly(2, 3);
            assertThat(completion("{}").prompts()).isEmpty();
        }

        @Test
        void rejectsMixedAndEmptyPrompts() {
            ApiException mixed = completionError("{'prompt':['a',[1]]}");
            assertThat(mixed.loc()).containsExactly("body", "prompt", 1);
            assertThat(completionError("{'prompt':[]}").loc()).containsExactly("body", "prompt");
            assertThat(completionError("{'prompt':[[1],[]]}").loc()).containsExactly("body", "prompt", 1);
            ApiException negative = completionError("{'prompt':[[1],[2,-5]]}");
            assertThat(negative.loc()).containsExactly("body", "prompt", 1, 1);
            assertThat(negative.value()).hasToString("-5");
            assertThat(completionError("{'prompt':5}").loc()).containsExactly("body", "prompt");
            for (String element : List.of("null", "true", "{}")) {
                ApiException e = completionError("{'prompt':[" + element + "]}");
                assertThat(e.loc()).containsExactly("body", "prompt", 0);
                assertThat(e.getMessage()).contains("prompt[0] must be a string, a token id or an array of token ids");
            }
        }

        @ParameterizedTest
        @CsvSource(delimiter = '|', value = {
                "{'prompt':'x','temperature':2.5}       | temperature",
                "{'prompt':'x','temperature':'hot'}     | temperature",
                "{'prompt':'x','top_p':1.1}             | top_p",
                "{'prompt':'x','top_k':-2}              | top_k",
                "{'prompt':'x','frequency_penalty':-3}  | frequency_penalty",
                "{'prompt':'x','presence_penalty':2.01} | presence_penalty",
                "{'prompt':'x','n':0}                   | n",
                "{'prompt':'x','n':129}                 | n",
                "{'prompt':'x','n':1.5}                 | n",
                "{'prompt':'x','best_of':21}            | best_of",
                "{'prompt':'x','logprobs':6}            | logprobs",
                "{'prompt':'x','max_tokens':-1}         | max_tokens",
                "{'prompt':'x','echo':'yes'}            | echo",
                "{'prompt':'x','stream':1}              | stream",
                "{'prompt':'x','seed':1e30}             | seed",
                "{'prompt':'x','seed':9223372036854775808} | seed",
                "{'prompt':'x','suffix':3}              | suffix",
                "{'prompt':'x','user':{}}               | user",
                "{'prompt':'x','timeout':0}             | timeout",
                "{'prompt':'x','context_length_exceeded_behavior':'drop'} | context_length_exceeded_behavior",
                "{'prompt':'x','model':7}               | model",
        })
        void rejectsOutOfRangeAndMistypedFieldsWithTheirLocation(String body, String field) {
            ApiException e = completionError(body);
            assertThat(e.status()).isEqualTo(422);
            assertThat(e.loc()).containsExactly("body", field);
            assertThat(e.getMessage()).contains(field);
            assertThat(e.value()).isEqualTo(json(body).get(field));
        }

        @Test
        void aRangeMessageNamesTheSideTheValueBroke() {
            assertThat(completionError("{'prompt':'x','seed':9223372036854775808}").getMessage())
                    .contains("seed must be at most 9223372036854775807");
            assertThat(completionError("{'prompt':'x','seed':-9223372036854775809}").getMessage())
                    .contains("seed must be at least -9223372036854775808");
            assertThat(completionError("{'prompt':'x','seed':1e19}").getMessage()).endsWith("got 10000000000000000000");
        }

        @Test
        void acceptsTheEdgesOfEachRange() {
            GenerationOptions o = completion("{'prompt':'x','temperature':0,'top_p':1,'top_k':-1,'frequency_penalty':-2,"
                    + "'presence_penalty':2,'n':128,'max_tokens':0,'seed':-9223372036854775808,'logprobs':5}").options();
            assertThat(o.temperature()).isZero();
            assertThat(o.topK()).isZero();
            assertThat(o.n()).isEqualTo(128);
            assertThat(o.maxTokens()).isZero();
            assertThat(o.seed()).isEqualTo(Long.MIN_VALUE);
            assertThat(completion("{'prompt':'x','n':2.0}").options().n()).isEqualTo(2);
        }

        @Test
        void bestOfMustCoverNAndCannotBeStreamed() {
            assertThat(completionError("{'prompt':'x','n':3,'best_of':2}").getMessage()).contains("best_of must be at least n");
            assertThat(completionError("{'prompt':'x','best_of':2,'stream':true}").loc()).containsExactly("body", "best_of");
            assertThat(completion("{'prompt':'x','n':2,'best_of':5}").options().candidates()).isEqualTo(5);
            assertThat(completion("{'prompt':'x','n':2,'best_of':2,'stream':true}").options().stream()).isTrue();
        }

        @Test
        void stopIsAStringOrUpToFourNonEmptyStrings() {
            assertThat(completion("{'prompt':'x','stop':'\\n'}").options().stop()).containsExactly("\n");
            assertThat(completion("{'prompt':'x','stop':['a','b','a']}").options().stop()).containsExactly("a", "b");
            assertThat(completionError("{'prompt':'x','stop':['a','b','c','d','e']}").loc()).containsExactly("body", "stop");
            assertThat(completionError("{'prompt':'x','stop':['a','']}").loc()).containsExactly("body", "stop", 1);
            assertThat(completionError("{'prompt':'x','stop':[1]}").loc()).containsExactly("body", "stop", 0);
        }

        @Test
        void logitBiasMapsTokenIdsToBiasesWithinHundred() {
            assertThat(completion("{'prompt':'x','logit_bias':{'50256':-100,'7':3.5}}").options().logitBias())
                    .isEqualTo(Map.of(50256, -100.0, 7, 3.5));
            ApiException range = completionError("{'prompt':'x','logit_bias':{'5':101}}");
            assertThat(range.loc()).containsExactly("body", "logit_bias", "5");
            assertThat(completionError("{'prompt':'x','logit_bias':{'abc':1}}").loc()).containsExactly("body", "logit_bias", "abc");
            // One spelling per token id, so that no key silently overrides another.
            assertThat(completionError("{'prompt':'x','logit_bias':{'+5':1}}").getMessage()).contains("without sign or leading zeros");
            assertThat(completionError("{'prompt':'x','logit_bias':{'05':1,'5':2}}").loc()).containsExactly("body", "logit_bias", "05");
            assertThat(completionError("{'prompt':'x','logit_bias':{'99999999999':1}}").getMessage()).contains("outside the vocabulary");
        }

        @Test
        void streamOptionsNeedStream() {
            assertThat(completion("{'prompt':'x','stream':true,'stream_options':{'include_usage':true}}").options().includeUsage()).isTrue();
            assertThat(completionError("{'prompt':'x','stream_options':{'include_usage':true}}").loc())
                    .containsExactly("body", "stream_options");
            assertThat(completionError("{'prompt':'x','stream':true,'stream_options':{'include_usage':1}}").loc())
                    .containsExactly("body", "stream_options", "include_usage");
        }

        @Test
        void logprobsMayAlsoBeTheBooleanGatewayForm() {
            assertThat(completion("{'prompt':'x','logprobs':true,'top_logprobs':3}").logprobs()).isEqualTo(3);
            assertThat(completion("{'prompt':'x','logprobs':true}").logprobs()).isZero();
            assertThat(completion("{'prompt':'x','logprobs':false}").logprobs()).isNull();
            assertThat(completionError("{'prompt':'x','logprobs':2,'top_logprobs':3}").loc()).containsExactly("body", "top_logprobs");
            // As for chat: up to 20 alternatives, and only with logprobs: true.
            assertThat(completion("{'prompt':'x','logprobs':true,'top_logprobs':20}").logprobs()).isEqualTo(20);
            assertThat(completionError("{'prompt':'x','logprobs':true,'top_logprobs':21}").loc()).containsExactly("body", "top_logprobs");
            assertThat(completionError("{'prompt':'x','logprobs':false,'top_logprobs':3}").getMessage()).contains("requires logprobs to be true");
        }

        @Test
        void maxCompletionTokensIsMaxTokensByAnotherName() {
            assertThat(completion("{'prompt':'x','max_completion_tokens':9}").options().maxTokens()).isEqualTo(9);
            assertThat(completion("{'prompt':'x','max_completion_tokens':9,'max_tokens':9}").options().maxTokens()).isEqualTo(9);
            assertThat(completionError("{'prompt':'x','max_completion_tokens':9,'max_tokens':8}").loc())
                    .containsExactly("body", "max_completion_tokens");
        }

        @Test
        void limitsTheSequencesOneRequestFansOutTo() {
            String prompts = "['a'" + ",'a'".repeat(99) + "]";
            assertThat(completionError("{'prompt':" + prompts + ",'n':11}").getMessage()).contains("at most 1024 sequences");
        }
    }

    @Nested
    class ExtraParameterPolicy {

        @Test
        void errorNamesEveryExtraField() {
            ApiException e = completionError("{'prompt':'x','foo':1,'min_p':0.1}");
            assertThat(e.status()).isEqualTo(400);
            assertThat(e.code()).isEqualTo("extra_parameters");
            assertThat(e.getMessage()).contains("foo").contains("min_p");
            assertThat(e.loc()).containsExactly("body", "foo");
        }

        @Test
        void dropRemovesAndReportsThem() {
            CompletionRequest request = RequestParser.completion(json("{'prompt':'x','foo':1,'min_p':0.1}"), ExtraParameters.DROP);
            assertThat(request.options().ignoredParams()).containsExactly("foo", "min_p");
            assertThat(request.options().extensions()).isEqualTo(Extensions.DEFAULTS);
        }

        @Test
        void passThroughHandsKnownOnesToTheEngineAndReportsTheRest() {
            CompletionRequest request = RequestParser.completion(json("{'prompt':'x','foo':1,'min_p':0.1,"
                    + "'repetition_penalty':1.2,'ignore_eos':true,'include_stop_str_in_output':true,'stop_token_ids':[5,6],"
                    + "'skip_special_tokens':false,'usage_in_last_chunk':true,'add_special_tokens':false,'cache_prompt':false}"),
                    ExtraParameters.PASS_THROUGH);
            Extensions x = request.options().extensions();
            assertThat(x).isEqualTo(new Extensions(0.1, 1.2, true, true, List.of(5, 6), false, true, false, false));
            assertThat(request.options().ignoredParams()).containsExactly("foo");
        }

        @Test
        void passThroughStillValidatesWhatItHonours() {
            assertThatThrownBy(() -> RequestParser.completion(json("{'prompt':'x','min_p':2}"), ExtraParameters.PASS_THROUGH))
                    .isInstanceOfSatisfying(ApiException.class, e -> assertThat(e.loc()).containsExactly("body", "min_p"));
            assertThatThrownBy(() -> RequestParser.completion(json("{'prompt':'x','repetition_penalty':0}"), ExtraParameters.PASS_THROUGH))
                    .isInstanceOfSatisfying(ApiException.class, e -> assertThat(e.loc()).containsExactly("body", "repetition_penalty"));
            assertThatThrownBy(() -> RequestParser.completion(json("{'prompt':'x','stop_token_ids':[1,'a']}"), ExtraParameters.PASS_THROUGH))
                    .isInstanceOfSatisfying(ApiException.class, e -> assertThat(e.loc()).containsExactly("body", "stop_token_ids", 1));
        }

        @Test
        void theHeaderValueIsCheckedToo() {
            assertThat(ExtraParameters.fromHeader(null)).isEqualTo(ExtraParameters.ERROR);
            assertThat(ExtraParameters.fromHeader("ignore")).isEqualTo(ExtraParameters.DROP);
            assertThat(ExtraParameters.fromHeader("pass-through")).isEqualTo(ExtraParameters.PASS_THROUGH);
            assertThatThrownBy(() -> ExtraParameters.fromHeader("maybe"))
                    .isInstanceOfSatisfying(ApiException.class, e -> {
                        assertThat(e.status()).isEqualTo(400);
                        assertThat(e.loc()).containsExactly("header", "extra-parameters");
                    });
        }

        @Test
        void completionOnlyFieldsAreExtraOnChat() {
            ApiException e = chatError("{'messages':[{'role':'user','content':'hi'}],'echo':true}");
            assertThat(e.loc()).containsExactly("body", "echo");
        }
    }

    @Nested
    class Chat {

        @Test
        void readsMessagesOfEveryRole() {
            ChatCompletionRequest request = chat("{'messages':["
                    + "{'role':'system','content':'be brief'},"
                    + "{'role':'developer','content':'really'},"
                    + "{'role':'user','content':[{'type':'text','text':'a'},{'type':'text','text':'b'}],'name':'ann'},"
                    + "{'role':'assistant','content':null,'tool_calls':[{'id':'c1','type':'function','function':{'name':'f','arguments':'{}'}}]},"
                    + "{'role':'tool','tool_call_id':'c1','content':'42'}]}");
            List<ChatMessage> m = request.messages();
            assertThat(m).extracting(ChatMessage::role).containsExactly("system", "system", "user", "assistant", "tool");
            assertThat(m.get(2).text()).isEqualTo("a\nb");
            assertThat(m.get(2).name()).isEqualTo("ann");
            assertThat(m.get(3).content()).isNull();
            assertThat(m.get(3).toolCalls()).containsExactly(new ChatMessage.ToolCall("c1", "f", "{}"));
            assertThat(m.get(4).toolCallId()).isEqualTo("c1");
            assertThat(request.options().maxTokens()).isNull();
        }

        @Test
        void pointsAtTheBadPartOfABadMessage() {
            ApiException content = chatError("{'messages':[{'role':'user','content':'a'},{'role':'assistant','content':'b'},"
                    + "{'role':'user','content':5}]}");
            assertThat(content.loc()).containsExactly("body", "messages", 2, "content");
            assertThat(content.value()).hasToString("5");
            assertThat(chatError("{'messages':[{'role':'robot','content':'a'}]}").loc()).containsExactly("body", "messages", 0, "role");
            assertThat(chatError("{'messages':[{'content':'a'}]}").loc()).containsExactly("body", "messages", 0, "role");
            assertThat(chatError("{'messages':[{'role':'user'}]}").loc()).containsExactly("body", "messages", 0, "content");
            assertThat(chatError("{'messages':[{'role':'tool','content':'x'}]}").loc()).containsExactly("body", "messages", 0, "tool_call_id");
            assertThat(chatError("{'messages':[{'role':'assistant'}]}").loc()).containsExactly("body", "messages", 0, "content");
            assertThat(chatError("{'messages':[{'role':'user','content':[{'type':'video'}]}]}").loc())
                    .containsExactly("body", "messages", 0, "content", 0, "type");
            assertThat(chatError("{'messages':[]}").loc()).containsExactly("body", "messages");
            assertThat(chatError("{}").loc()).containsExactly("body", "messages");
            assertThat(chatError("{}").code()).isEqualTo("missing_field");
        }

        @Test
        void aTextPartCarriesItsTextInTextOrAsTheAzurePageWritesItInContent() {
            ChatCompletionRequest request = chat("{'messages':[{'role':'user','content':[{'type':'text','text':'a'},"
                    + "{'type':'text','content':'b'}]}]}");
            assertThat(request.messages().getFirst().content()).extracting(ChatMessage.ContentPart::text).containsExactly("a", "b");
            assertThat(chatError("{'messages':[{'role':'user','content':[{'type':'text'}]}]}").loc())
                    .containsExactly("body", "messages", 0, "content", 0, "text");
        }

        @Test
        void keepsImageAndAudioPartsWithTheirLocationForTheModelCheck() {
            ChatCompletionRequest request = chat("{'messages':[{'role':'user','content':[{'type':'text','text':'look'},"
                    + "{'type':'image_url','image_url':{'url':'data:image/png;base64,AA','detail':'low'}},"
                    + "{'type':'input_audio','input_audio':{'data':'AA','format':'wav'}}]}]}");
            List<ChatMessage.ContentPart> parts = request.messages().getFirst().content();
            assertThat(parts).extracting(ChatMessage.ContentPart::type).containsExactly("text", "image_url", "input_audio");
            assertThat(parts.get(1).loc()).containsExactly("body", "messages", 0, "content", 1);
        }

        @Test
        void logprobsIsABooleanAndTopLogprobsNeedsIt() {
            ChatCompletionRequest request = chat("{'messages':[{'role':'user','content':'a'}],'logprobs':true,'top_logprobs':20}");
            assertThat(request.logprobs()).isTrue();
            assertThat(request.topLogprobs()).isEqualTo(20);
            assertThat(chatError("{'messages':[{'role':'user','content':'a'}],'top_logprobs':2}").loc()).containsExactly("body", "top_logprobs");
            assertThat(chatError("{'messages':[{'role':'user','content':'a'}],'logprobs':true,'top_logprobs':21}").loc())
                    .containsExactly("body", "top_logprobs");
            assertThat(chatError("{'messages':[{'role':'user','content':'a'}],'logprobs':3}").loc()).containsExactly("body", "logprobs");
        }

        @Test
        void maxTokensMustBePositive() {
            assertThat(chatError("{'messages':[{'role':'user','content':'a'}],'max_tokens':0}").loc()).containsExactly("body", "max_tokens");
        }

        @Test
        void validatesToolsAndToolChoice() {
            String tool = "{'type':'function','function':{'name':'get_weather','description':'d','parameters':"
                    + "{'type':'object','properties':{'city':{'type':'string'}},'required':['city']}}}";
            ChatCompletionRequest request = chat("{'messages':[{'role':'user','content':'a'}],'tools':[" + tool + "],"
                    + "'tool_choice':{'type':'function','function':{'name':'get_weather'}},'parallel_tool_calls':false}");
            assertThat(request.options().tools()).extracting(Tool::name).containsExactly("get_weather");
            assertThat(request.options().toolChoice()).isEqualTo(new ToolChoice("function", "get_weather"));
            assertThat(request.options().parallelToolCalls()).isFalse();
            assertThat(chat("{'messages':[{'role':'user','content':'a'}],'tools':[" + tool + "]}").options().toolChoice())
                    .isEqualTo(ToolChoice.AUTO);

            String user = "{'messages':[{'role':'user','content':'a'}],";
            assertThat(chatError(user + "'tools':[{'type':'function','function':{'name':'bad name'}}]}").loc())
                    .containsExactly("body", "tools", 0, "function", "name");
            assertThat(chatError(user + "'tools':[{'type':'function','function':{'name':'" + "x".repeat(65) + "'}}]}").loc())
                    .containsExactly("body", "tools", 0, "function", "name");
            assertThat(chatError(user + "'tools':[{'type':'function','function':{'name':'f','parameters':[]}}]}").loc())
                    .containsExactly("body", "tools", 0, "function", "parameters");
            assertThat(chatError(user + "'tools':[{'type':'function','function':{'name':'f','parameters':"
                    + "{'type':'object','properties':{'a':{'type':'text'}}}}}]}").loc())
                    .containsExactly("body", "tools", 0, "function", "parameters", "properties", "a", "type");
            assertThat(chatError(user + "'tools':[{'type':'retrieval'}]}").loc()).containsExactly("body", "tools", 0, "type");
            assertThat(chatError(user + "'tool_choice':'required'}").loc()).containsExactly("body", "tool_choice");
            assertThat(chatError(user + "'tool_choice':'sometimes'}").loc()).containsExactly("body", "tool_choice");
            assertThat(chatError(user + "'tools':[" + tool + "],'tool_choice':{'type':'function','function':{'name':'other'}}}").loc())
                    .containsExactly("body", "tool_choice", "function", "name");
        }

        @Test
        void validatesResponseFormat() {
            String user = "{'messages':[{'role':'user','content':'a'}],";
            assertThat(chat(user + "'response_format':{'type':'json_object'}}").options().responseFormat().type()).isEqualTo("json_object");
            ResponseFormat withSchema = chat(user + "'response_format':{'type':'json_object','schema':{'type':'object'}}}")
                    .options().responseFormat();
            assertThat(withSchema.schema()).isNotNull();
            ResponseFormat named = chat(user + "'response_format':{'type':'json_schema','json_schema':{'name':'r','schema':{'type':'object'},'strict':true}}}")
                    .options().responseFormat();
            assertThat(named.name()).isEqualTo("r");
            assertThat(named.strict()).isTrue();
            assertThat(chatError(user + "'response_format':{'type':'xml'}}").loc()).containsExactly("body", "response_format", "type");
            assertThat(chatError(user + "'response_format':'json'}").loc()).containsExactly("body", "response_format");
            assertThat(chatError(user + "'response_format':{'type':'json_schema'}}").loc()).containsExactly("body", "response_format", "json_schema");
            assertThat(chatError(user + "'response_format':{'type':'json_object','schema':3}}").loc()).containsExactly("body", "response_format", "schema");
        }

        @Test
        void validatesModalitiesAudioAndPrediction() {
            String user = "{'messages':[{'role':'user','content':'a'}],";
            assertThat(chat(user + "'modalities':['text','audio'],'audio':{'voice':'alloy','format':'wav'}}").options().modalities())
                    .containsExactly("text", "audio");
            assertThat(chatError(user + "'modalities':['smell']}").loc()).containsExactly("body", "modalities", 0);
            assertThat(chatError(user + "'audio':'loud'}").loc()).containsExactly("body", "audio");
            assertThat(chat(user + "'prediction':{'type':'content','content':'abc'}}").options().prediction()).isEqualTo("abc");
            assertThat(chat(user + "'prediction':{'type':'content','content':[{'type':'text','text':'a'},{'type':'text','text':'b'}]}}")
                    .options().prediction()).isEqualTo("ab");
            assertThat(chatError(user + "'prediction':{'type':'guess','content':'a'}}").loc()).containsExactly("body", "prediction", "type");
            assertThat(chatError(user + "'prediction':{'type':'content'}}").loc()).containsExactly("body", "prediction", "content");
        }

        @Test
        void acceptsTheGuardrailContextAndReportsUnknownNestedFields() {
            ChatCompletionRequest request = chat("{'messages':[{'role':'user','content':'a','mood':'happy','refusal':null}],"
                    + "'context':'the source document'}");
            assertThat(request.options().guardrailContext().textValue()).isEqualTo("the source document");
            assertThat(request.options().ignoredParams()).containsExactly("messages[0].mood");
        }
    }

    @Test
    void theBodyMustBeAnObject() {
        ApiException e = completionError("[1,2]");
        assertThat(e.status()).isEqualTo(422);
        assertThat(e.loc()).containsExactly("body");
    }
}
