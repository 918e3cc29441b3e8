"""Intent phrases, per language, in the order they are tried.

The order is the policy. Requests that must never be missed or misread come
first: "pare de ligar" (an opt-out is a legal duty) before anything that
merely mentions calling; a death ("ele faleceu") before anything said about
the person; a dispute ("não reconheço essa dívida") before a wrong person
("não conheço"); someone out for now ("ele não está", "she's at work") before a
wrong person, since the number is right; a person's own situation ("não posso
pagar", "já paguei") before the dates they may add to it; "já paguei o boleto"
before "me manda o boleto". Plain yes/no come last, after the slots had their
chance, so "não, pode ser sexta" is a promise.

Patterns match the ``words`` form (lowercase, accent-free, see ``nlu_text``);
``^...$`` patterns only accept the whole utterance.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# The fixed intent vocabulary the call flow routes on (see ``nlu``); the flow
# validates its branches against it. Defined once, in ``ivr.vocab.intents``.
from ivr.vocab.intents import NLU_INTENTS as INTENTS  # noqa: F401 (the NLU's public name)


@dataclass(frozen=True)
class IntentRule:
    intent: str
    pattern: re.Pattern[str]
    confidence: float = 0.95


def _rules(*pairs: tuple[str, str]) -> list[IntentRule]:
    return [IntentRule(intent, re.compile(rf"\b(?:{pattern})\b")) for intent, pattern in pairs]


# ------------------------------------------------------------------ pt-BR

PT_FIRST = _rules(
    (
        "stop_calling",
        r"par[ae]m? de (?:me )?ligar|par[ae]m? de (?:me )?(?:telefonar|incomodar)"
        r"|nao (?:me )?(?:ligue|liguem|liga|ligar|ligam|telefone|telefonem) mais"
        r"|nunca mais (?:me )?(?:ligue|liguem|liga|ligar)"
        r"|nao quero (?:mais )?(?:receber )?(?:ligacao|ligacoes|telefonemas?)"
        r"|tir[ae]m? (?:o )?meu (?:numero|telefone)|chega de (?:ligacao|ligacoes|ligar)"
        r"|nao (?:quero|autorizo) (?:que )?(?:voces )?(?:me )?liguem"
        r"|nao (?:me )?(?:perturbe|perturbem|incomode|incomodem|amole) mais"
        r"|par[ae]m? de (?:me )?(?:perturbar|incomodar)",
    ),
    (
        "deceased",
        r"falec\w*|morreu|morreram|(?:e|esta|ta|ja) mort[oa]|obito|descanse em paz|velorio"
        r"|enterro|nao (?:esta|ta|se encontra) mais (?:entre nos|com a gente|aqui com a gente)",
    ),
    (
        "wrong_person",
        r"(?:numero|telefone) nao e (?:meu|dele|dela|do|da)"
        r"|(?:esse|este) (?:numero|telefone) (?:e|agora e) d[aoe]|pessoa errada",
    ),
    (
        "dispute",
        r"nao (?:re)?conheco (?:essa|esta|esse|este|a|o|tal) "
        r"(?:divida|conta|debito|cobranca|compra|valor)"
        r"|nao reconheco|nao e (?:meu|minha|meus|minhas)|nao devo"
        r"|nunca (?:fiz|comprei|contratei|tive|assinei|pedi)"
        r"|nao fiz (?:essa|esta|esse|este|nenhuma?) (?:divida|compra|conta|emprestimo)"
        r"|nao fui eu (?:que|quem)|golpe|fraude|contestar|contesto|prescrev\w*|prescrita",
    ),
    (
        "not_available",
        r"(?:ele|ela) (?:ainda )?nao (?:esta|ta|se encontra)(?! mais)"
        r"|^nao (?:esta|ta|se encontra)(?: aqui)?$|nao (?:esta|ta|se encontra) (?:no momento|agora)"
        r"|(?:deixar|deixa|anotar) (?:um )?recado|(?:ele|ela) (?:saiu|viajou)"
        r"|(?:ele|ela) (?:foi|saiu) (?:no|na|ao|a|pra|para|pro|ali)\b"
        r"|(?:ele|ela) (?:esta|ta) (?:viajando|fora|trabalhando|dormindo|ocupad[oa]|no trabalho"
        r"|no banho|no hospital|internad[oa]|na rua|no medico|na escola|na faculdade|de viagem"
        r"|no servico)"
        r"|(?:ele|ela) (?:so )?(?:volta|chega|retorna|vai voltar|vai chegar)"
        r"|(?:ele|ela) nao (?:pode|consegue) (?:atender|falar)"
        r"|(?:ele|ela) (?:so )?trabalha (?:a|de|durante a) noite",
    ),
    (
        "wrong_person",
        r"nao sou (?:eu|ele|ela|o|a)|(?:ele|ela) nao (?:mora|trabalha)"
        r"|(?:ele|ela) nao (?:esta|ta) mais"
        r"|numero errado|ligou errado|ligacao errada|liga(?:ram|ou) para o numero errado"
        r"|nao conheco|engano|nao e (?:ele|ela|aqui|dele|dela|o|a)\b"
        r"|nao (?:tem|mora|existe) ninguem|ninguem com esse nome|nao sei quem"
        r"|nao mora aqui|nao tem (?:nenhum|nenhuma|ninguem)"
        r"|(?:esposa|marido|mulher|mae|pai|filh[oa]|irma|irmao|namorad[oa]|vizinh[oa]|colega)"
        r" d(?:ele|ela)",
    ),
    (
        "agent",
        r"atendente|(?:uma|outra|alguma) pessoa|pessoa (?:de verdade|real)|humano|operador[a]?"
        r"|falar com alguem|alguem (?:ai )?(?:para|pra) (?:falar|conversar)|gerente|responsavel"
        r"|passa (?:pra|para) (?:alguem|outra pessoa)"
        r"|supervisor[a]?|agente",
    ),
    (
        "already_paid",
        r"ja (?:paguei|pagou|pagamos|quitei|quitou|quitamos|efetuei|acertei)"
        r"|ja (?:foi|esta|ta) (?:pag[oa]|quitad[oa]|acertad[oa])|ja fiz o pagamento"
        r"|paguei|quitei|(?:esta|ta) (?:tudo )?pago|comprovante"
        r"|(?:fiz|mandei|enviei) o pix|transferi|depositei|acabei de pagar"
        r"|(?:fiz|mandei) (?:a |o |uma |um )?(?:transferencia|deposito|ted|doc)"
        r"|pagamento (?:ja )?foi feito|ja foi feito o pagamento",
    ),
    (
        "payment_details",
        r"boleto|chave (?:do |de )?pix|codigo de barras|linha digitavel|segunda via"
        r"|(?:passa|manda|mande|envia|envie|qual|qual e|tem|aceita\w*|me da|mandar|passar|enviar)"
        r" (?:o |a |um |uma )?pix"
        r"|dados (?:bancarios|da conta|do pix|para (?:o |eu )?(?:pagamento|pagar|depositar)"
        r"|pra (?:o |eu )?(?:pagamento|pagar|depositar))"
        r"|(?:manda|mande|envia|envie|passa|passe|fala|mandar|enviar|passar)(?: pra mim| para mim)?"
        r" (?:o |a |os |as )?(?:link|dados|codigo|conta|chave)"
        r"|(?:manda|mande|envia|envie|mandar|enviar) (?:por|pelo|no|pro|para o|pra) (?:meu )?"
        r"(?:whatsapp|zap|email|e mail|mensagem|sms|torpedo|celular)"
        r"|como (?:e que )?(?:eu )?(?:faco|posso|consigo|vou) (?:para |pra )?pagar"
        r"|como (?:eu )?pago"
        r"|onde (?:eu )?(?:pago|posso pagar|faco o pagamento)|aceita\w* cartao"
        r"|conta (?:pra|para) (?:deposito|depositar|transferencia|transferir|pagar|pagamento)"
        r"|(?:pagar|pago) (?:no|com|pelo|via) cartao|cartao de credito",
    ),
    (
        "installments",
        r"parcel\w*|(?<!as )vezes|prestac\w*|dividir",
    ),
)

# Promise words that turn a "can't pay" into a counter-offer when a slot follows.
PT_CANNOT_PAY = _rules(
    (
        "cannot_pay",
        r"nao (?:posso|consigo|vou conseguir|vou poder|tenho como|da para|da pra|to podendo"
        r"|estou podendo|tenho condicoes de) pagar"
        r"|nao (?:tenho|to com|estou com) (?:dinheiro|condicoes|grana)|nao tenho como"
        r"|sem (?:dinheiro|condicoes|grana|emprego|trabalho|renda)|desempregad[oa]"
        r"|perdi (?:o|meu) emprego|nao da para pagar|nao da pra pagar|nao tenho condicoes"
        r"|dificuldades?|apertad[oa]|(?:estou|to) (?:quebrad[oa]|dur[oa]|lis[oa])"
        r"|nao tenho (?:de|da) onde tirar|dinheiro nao da|nao sobra|nao tenho nada"
        r"|(?:ta|esta|anda) (?:muito )?dificil",
    ),
)

PT_CALLBACK = _rules(
    (
        "callback",
        r"(?:me )?(?:liga|ligue|ligar|liguem|retorna|retorne)|me telefon\w+"
        r"|nao posso falar|(?:estou|to|tou) (?:ocupad[oa]|trabalhando|dirigindo|no trabalho"
        r"|em reuniao|no onibus|na rua)|^agora nao(?: posso| da)?$"
        r"|agora nao e (?:uma )?boa hora|outra hora|^(?:mais tarde|depois)$"
        r"|qualquer (?:hora|horario)",
    ),
)

PT_REPEAT = _rules(
    (
        "repeat",
        r"repet\w*|repit\w*|nao (?:entendi|ouvi|escutei|compreendi)"
        r"|^(?:como|o que|oi|hein|ha|hum|que|como e|o que e)$|como e que e"
        r"|quem (?:e|fala|esta falando|e voce)"
        r"|de novo|mais devagar|outra vez|novamente|como assim"
        r"|o que (?:voce|o senhor|a senhora) (?:disse|falou)",
    ),
)

PT_DONT_KNOW = re.compile(
    r"\b(?:nao sei|sei la|nao faco ideia|nao tenho certeza|talvez|deixa eu (?:pensar|ver)"
    r"|vou ver)\b"
)
PT_NO = re.compile(
    r"\b(?:nao|negativo|de jeito nenhum|nunca|errado|incorreto|nem pensar|nada disso)\b"
)
PT_NOT_A_NO = re.compile(r"\b(?:pois nao|nao tem problema|nao ha problema|por que nao)\b")
PT_YES = re.compile(
    r"\b(?:sim|isso|sou eu|e ele|e ela|o proprio|a propria|ele mesmo|ela mesma|eu mesmo"
    r"|eu mesma|pode falar"
    r"|falando|claro|com certeza|ta bom|ta|esta bem|ta certo|pode ser|pode|confirmo"
    r"|confirmado|correto|certo|certeza|ok|okay|beleza|uhum|aham|exato|exatamente|fechado"
    r"|aceito|quero|positivo|perfeito|combinado|tudo bem|sem problema|otimo|bom|pois nao"
    r"|nao tem problema|por que nao|isso mesmo|esta certo)\b"
)
PT_WILL_PAY = re.compile(r"\b(?:posso|vou|consigo|quero|vamos|da pra|da para) pagar\b|\beu pago\b")

# ------------------------------------------------------------------ en-US

EN_FIRST = _rules(
    (
        "stop_calling",
        r"stop call\w*|(?:dont|do not|never) call|take me off|remove (?:me|my number)"
        r"|(?:dont|do not) (?:contact|phone)|no more calls|quit calling",
    ),
    (
        "deceased",
        r"passed away|(?:he|she|they|hes|shes) passed|died|deceased|no longer with us"
        r"|(?:is|hes|shes|was) dead|funeral|in a better place|rest in peace",
    ),
    ("wrong_person", r"(?:number|phone) is(?:nt| not) (?:mine|his|hers)"),
    (
        "dispute",
        r"(?:dont|do not) recognize|(?:not|isnt|aint|wasnt) (?:my|mine)|(?:dont|do not) owe"
        r"|no idea what (?:this|that|it) is"
        r"|dispute|scam|fraud"
        r"|never (?:bought|signed|had|owed)",
    ),
    (
        "not_available",
        r"(?:hes|shes|he is|she is|theyre|they are) not (?:here|home|available|in|around|back)"
        r"|(?:hes|shes|he is|she is) (?:out|at work|at school|working|sleeping|asleep|busy|away"
        r"|in the shower|in the hospital|traveling|travelling|on vacation)"
        r"|(?:he|she) (?:cant|cannot|can not) (?:come to|get to|answer) the phone"
        r"|(?:hell|shell|he will|she will) be (?:back|home)|(?:he|she) gets (?:home|back|in)"
        r"|(?:he|she) (?:stepped|went) out"
        r"|(?:hes|shes|he is|she is) (?:at|in) (?:the |a |his |her )?(?!home\b)(?:store|shop"
        r"|market|mall|church|gym|doctors?|bank|office|meeting|class|school|work)"
        r"|(?:he|she) (?:wont|will not|isnt going to) be (?:back|home)"
        r"|(?:he|she) works (?:nights|at night|the night shift|night shift|late)"
        r"|(?:hes|shes|he is|she is) (?:on|working) (?:the )?night shift",
    ),
    (
        "already_paid",
        r"already paid|i paid|paid (?:it|that|this|in full|off|already)"
        r"|(?:its|it is|it was|its been|it has been|has been|was) (?:already )?(?:been )?paid"
        r"|(?:sent|made|mailed) (?:the |a |my )?(?:payment|money|check)"
        r"|already sent|sent (?:it|that|you)|took care of (?:it|that|this)|just paid",
    ),
    (
        "wrong_person",
        r"not me|wrong (?:number|person)"
        r"|(?:dont|do not) know (?:him|her|them|who|anyone|that person|this person)"
        r"|no one (?:here )?(?:by|with|named)|nobody (?:here )?(?:by|with|named)"
        r"|(?:doesnt|does not|dont|do not) live here"
        r"|my (?:son|daughter|husband|wife|father|mother|dad|mom|brother|sister)",
    ),
    (
        "agent",
        r"agent|operator|representative|human|(?:real|live|actual) person|a person"
        r"|(?:speak|talk) (?:to|with) (?:someone|somebody)|supervisor|manager",
    ),
    (
        "payment_details",
        r"(?:text|send|email|e mail|mail) me (?:the |a |an |your )?(?:\w+ )?"
        r"(?:link|bill|invoice|statement|details|info|information)"
        r"|(?:text|send|email|mail) (?:it|that|them) to me"
        r"|(?:can you|could you|just) (?:text|email) me"
        r"|how (?:do|can|should) i pay|where (?:do|can|should) i (?:pay|send)"
        r"|how (?:do|can) i make (?:a |the )?payments?|account number|routing number"
        r"|pay (?:online|by (?:card|phone|credit card|debit card)|with (?:venmo|zelle|paypal"
        r"|cash app|apple pay|google pay|a card|card|my card|a credit card|a debit card))"
        r"|(?:take|accept) (?:credit|debit|cards?)|credit cards?|debit cards?|website"
        r"|payment link|mailing address|link (?:to|for) (?:pay|paying|the payment)"
        r"|(?:payment|online) portal|pay online|online payment"
        r"|(?:text|send|email|mail) (?:it|that|them|the bill|the link) to my"
        r" (?:phone|cell|email|number)",
    ),
    (
        "installments",
        r"installments?|payment plan|in \w+ payments|\w+ (?:monthly )?payments"
        r"|(?:each|every|per) month|a little at a time|monthly",
    ),
)

EN_CANNOT_PAY = _rules(
    (
        "cannot_pay",
        r"(?:cant|cannot|can not|wont be able to|unable to|not able to) (?:pay|afford)"
        r"|unemployed|out of work|jobless|lost my job|no money"
        r"|(?:dont|do not) have (?:the |any |enough )?money|broke|money is tight"
        r"|(?:tight|short) on (?:money|cash)|hard times|struggling|between jobs|laid off"
        r"|got fired",
    ),
)

EN_CALLBACK = _rules(
    (
        "callback",
        r"call (?:me|back|later|again|tomorrow|tonight)|call (?:on|in|at|next|this|some|another)"
        r"|(?:cant|cannot|can not) talk|(?:im|i am) (?:busy|driving|at work|working"
        r"|in a meeting)|^not now$|not a good time|bad time|^later$|another time"
        r"|any ?time",
    ),
)

EN_REPEAT = _rules(
    (
        "repeat",
        r"^(?:sorry )?(?:what|huh|pardon|sorry|excuse me|come again|say again|what was that"
        r"|what did you say)$|repeat|say (?:that|it) again"
        r"|(?:didnt|did not|dont|do not) (?:understand|get that|hear)"
        r"|come again|pardon|slow(?:er| down)|one more time",
    ),
)

EN_DONT_KNOW = re.compile(r"\b(?:i dont know|dont know|not sure|no idea|maybe|let me think)\b")
EN_NO = re.compile(r"\b(?:no|nope|nah|not|never|incorrect|wrong|negative|dont)\b")
EN_NOT_A_NO = re.compile(r"\b(?:no problem|why not|not a problem)\b")
EN_YES = re.compile(
    r"\b(?:yes|yeah|yep|yup|ya|sure|correct|thats right|^right$|ok|okay|speaking"
    r"|this is (?:he|she|him|her)"
    r"|thats me|its me|it is|sounds good|fine|alright|all right|of course|absolutely"
    r"|definitely|uh huh|i do|i agree|agreed|go ahead|confirm\w*|no problem|why not|please"
    r"|that works|works for me|good|you got it|got it|deal|will do)\b"
)
EN_WILL_PAY = re.compile(r"\b(?:i can|ill|i will|i could|i want to|i would) pay\b")


@dataclass(frozen=True)
class Lexicon:
    """Everything language-specific that the decision in ``nlu`` consults."""

    first: list[IntentRule]
    cannot_pay: list[IntentRule]
    callback: list[IntentRule]
    repeat: list[IntentRule]
    dont_know: re.Pattern[str]
    no: re.Pattern[str]
    not_a_no: re.Pattern[str]
    yes: re.Pattern[str]
    will_pay: re.Pattern[str]
    contrast: re.Pattern[str]


LEXICONS = {
    "pt": Lexicon(
        PT_FIRST,
        PT_CANNOT_PAY,
        PT_CALLBACK,
        PT_REPEAT,
        PT_DONT_KNOW,
        PT_NO,
        PT_NOT_A_NO,
        PT_YES,
        PT_WILL_PAY,
        re.compile(r"\b(?:so|mas|porem|somente|apenas)\b"),
    ),
    "en": Lexicon(
        EN_FIRST,
        EN_CANNOT_PAY,
        EN_CALLBACK,
        EN_REPEAT,
        EN_DONT_KNOW,
        EN_NO,
        EN_NOT_A_NO,
        EN_YES,
        EN_WILL_PAY,
        re.compile(r"\b(?:only|but|just|instead)\b"),
    ),
}


def first_match(rules: list[IntentRule], words: str) -> IntentRule | None:
    for rule in rules:
        if rule.pattern.search(words):
            return rule
    return None
