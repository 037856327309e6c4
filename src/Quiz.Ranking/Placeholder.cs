namespace Quiz.Ranking; internal static class Placeholder { }
