"""Korean."""

# clarify: the question, by what the router leaned towards (the node adds the options).
CLARIFY = {
    "ROUTINE": "새 루틴을 만들까요, 아니면 지금 루틴을 바꿀까요?",
    "ANY": "어떤 걸 도와드릴까요? 오늘 운동 안내, 새 루틴 만들기, 지금 루틴 수정 중에서 말씀해 주세요.",
    "DETAIL": '질문을 조금만 더 자세히 말씀해 주시겠어요? 예: "오늘 운동 뭐 해야 돼?", "벤치프레스 자세 알려줘"',
}

# update_routine, when the model could not tell which change: examples from the user's own routine.
ASK_FOR_THE_CHANGE = (
    '어떤 루틴({names})의 어떤 운동을 어떻게 바꿀까요? 예: "{routine}에서 {exercise} 빼줘", '
    '"{exercise} 5세트로 늘려줘", "{exercise} 대신 다른 운동 넣어줘"'
)
