"""English."""

# clarify: the question, by what the router leaned towards (the node adds the options).
CLARIFY = {
    "ROUTINE": "Should I create a new routine, or change your current one?",
    "ANY": "What can I help with? Today's workout, a new routine, or a change to your current routine?",
    "DETAIL": 'Could you tell me a bit more? For example: "what should I train today?" or "how do I bench?"',
}

# update_routine, when the model could not tell which change: examples from the user's own routine.
ASK_FOR_THE_CHANGE = (
    "Which exercise in which routine ({names}) should I change, and how? For example: "
    '"remove {exercise} from {routine}", "{exercise} to 5 sets", "swap {exercise} for …"'
)
