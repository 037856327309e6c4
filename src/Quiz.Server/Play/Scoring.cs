using Quiz.Server.Campaigns;
using Quiz.Server.Questions;

namespace Quiz.Server.Play;

public static class Scoring
{
    /// <summary>Points for one answer, given as bank letters in order ("AC"), under the stage's rules.</summary>
    public static int Points(Stage stage, Question question, string letters)
    {
        var full = stage.Points.For(question.Type);
        if (letters == question.Answer) return full;
        // Partial credit only for a multiple-choice answer with no wrong option in it.
        if (question.Type == QuestionTypes.Multiple && stage.MultipleScoring == MultipleScoring.Partial &&
            letters.Length > 0 && letters.All(question.Answer.Contains))
            return full / 2;
        return 0;
    }
}
