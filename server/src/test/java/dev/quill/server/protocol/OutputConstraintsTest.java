package dev.quill.server.protocol;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import java.util.List;
import org.junit.jupiter.api.Test;

/** The grammar / regex / choice extensions as RequestParser reads them. */
class OutputConstraintsTest {

    private static GenerationOptions completion(String body, ExtraParameters policy) {
        return RequestParser.completion(Json.parse(body.replace('\'', '"').getBytes()), policy).options();
    }

    private static GenerationOptions chat(String body) {
        return RequestParser.chat(Json.parse(body.replace('\'', '"').getBytes()), ExtraParameters.PASS_THROUGH).options();
    }

    private static ApiException chatError(String body) {
        return catchThrowableOfType(ApiException.class, () -> chat(body));
    }

    private static final String MESSAGES = "{'messages':[{'role':'user','content':'Hi'}]";

    @Test
    void eachConstraintIsReadWithPassThrough() {
        assertThat(chat(MESSAGES + ",'grammar':'root ::= [a-z]+'}").constraints())
                .isEqualTo(new OutputConstraints("root ::= [a-z]+", null, null));
        assertThat(chat(MESSAGES + ",'regex':'[0-9]{3}'}").constraints()).isEqualTo(new OutputConstraints(null, "[0-9]{3}", null));
        GenerationOptions o = completion("{'prompt':'x','choice':['yes','no']}", ExtraParameters.PASS_THROUGH);
        assertThat(o.constraints()).isEqualTo(new OutputConstraints(null, null, List.of("yes", "no")));
        assertThat(o.constraints().field()).isEqualTo("choice");
        assertThat(o.ignoredParams()).isEmpty();
        assertThat(chat(MESSAGES + ",'grammar':null}").constraints()).isEqualTo(OutputConstraints.NONE);
    }

    @Test
    void withoutPassThroughTheyAreExtraParameters() {
        GenerationOptions dropped = completion("{'prompt':'x','regex':'a'}", ExtraParameters.DROP);
        assertThat(dropped.constraints().isEmpty()).isTrue();
        assertThat(dropped.ignoredParams()).containsExactly("regex");
        ApiException e = catchThrowableOfType(ApiException.class, () -> completion("{'prompt':'x','regex':'a'}", ExtraParameters.ERROR));
        assertThat(e.code()).isEqualTo("extra_parameters");
    }

    @Test
    void malformedValuesPointAtTheField() {
        assertThat(chatError(MESSAGES + ",'grammar':''}").loc()).containsExactly("body", "grammar");
        assertThat(chatError(MESSAGES + ",'regex':7}").loc()).containsExactly("body", "regex");
        assertThat(chatError(MESSAGES + ",'choice':[]}").getMessage()).contains("at least one");
        assertThat(chatError(MESSAGES + ",'choice':['a',1]}").loc()).containsExactly("body", "choice", 1);
    }

    @Test
    void oneConstraintPerRequest() {
        ApiException two = chatError(MESSAGES + ",'regex':'a','choice':['a']}");
        assertThat(two.status()).isEqualTo(422);
        assertThat(two.getMessage()).contains("Only one of grammar, regex and choice");
        ApiException withFormat = chatError(MESSAGES + ",'regex':'a','response_format':{'type':'json_object'}}");
        assertThat(withFormat.loc()).containsExactly("body", "regex");
        assertThat(withFormat.getMessage()).contains("response_format json_object");
        ApiException withTools = chatError(MESSAGES + ",'choice':['a'],'tool_choice':'required',"
                + "'tools':[{'type':'function','function':{'name':'f'}}]}");
        assertThat(withTools.getMessage()).contains("forces a tool call");
    }
}
