// make_demo_project's tasks (see make_demo.h): each task's trajectory, answer, verification and rejected steps,
// with the helpers that render actions and observations as core/conversation does. Moved out of make_demo.cpp
// unchanged.
#include <QDir>
#include <QFile>
#include <QFont>
#include <QGuiApplication>
#include <QImage>
#include <QPainter>
#include <QPainterPath>
#include <QTextStream>

#include <cmath>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "core/conversation/action.h"
#include "core/conversation/observation.h"
#include "core/conversation/user_prompt.h"

#include "resources/demo/generator/make_demo.h"

namespace demo {

std::string img(const std::string& name) { return std::string(kImgPrefix) + name; }
std::string att(const std::string& name) { return std::string(kAttachPrefix) + name; }

std::string actionText(const Step& s) {
    if (s.rawAction) return s.thought;
    return conversation::render_action(s.thought, s.code);
}
std::string action(const std::string& thought, const std::string& code) {
    return conversation::render_action(thought, code);
}
// Pref-X's form of an action.
std::string prefxAction(const std::string& action) { return action + std::string(conversation::k_end_action); }

// What the agent printed ends with a newline (print's); an error turn is the runtime's.
std::string observationTurn(int k, const Step& s) {
    if (s.error) return conversation::render_error_turn(k, s.observation);
    return conversation::render_observation(k, s.observation + "\n");
}

std::string verification(const std::string& thought, const std::string& correct) {
    return "```json\n{\n\"thought\": \"" + thought + "\",\n\"correct\": \"" + correct + "\"\n}\n```";
}

// The missing-fence parsing error as M-TRACE has it, without parsing_error's ". Make sure to provide correct
// code" tail (the committed demo files were made so).
const std::string kParseError = std::string(conversation::k_parsing_error_prefix) +
                                conversation::code_blob_error("'NoneType' object has no attribute 'group'");

std::vector<Task> buildTasks(const std::vector<Box>& circles, const std::vector<Box>& squares,
                             const std::vector<Box>& faces, const std::vector<Box>& apples,
                             const std::vector<Box>& cars) {
    std::vector<Task> t;
    const std::string R1 = "receipt_cafe.png", R2 = "receipt_market.png";

    t.push_back({"dm7Qa2Lx", "documents", {R1}, "What is the total amount paid on this receipt, including tax?",
                 {{"I will use the `visualizer` tool to read the receipt and find the total amount, including tax.",
                   "total = visualizer(question=\"What is the total amount on this receipt, including tax?\", "
                   "image_path=\"" + att(R1) + "\")\nprint(total)",
                   "The receipt from CAFE LUNA lists Espresso 3.20, Croissant 2.80 and Orange Juice 4.50. The "
                   "subtotal is 10.50, tax is 0.84 and the TOTAL is 11.34."},
                  {"The receipt's total including tax is 11.34. I will return it as the final answer.",
                   "final_answer(\"11.34\")", ""}},
                 "11.34", "yes",
                 verification("The agent read the total of 11.34 from the receipt with the visualizer tool, which "
                              "matches the subtotal 10.50 plus tax 0.84. The answer is correct.", "yes"),
                 {{0, action("The receipt total is probably the sum of the items.", "final_answer(\"10.50\")"),
                   "10.50"},
                  {0, action("I will locate the total on the receipt.",
                             "boxes = objectlocation(object=\"total\", image_path=\"" + att(R1) + "\")\nprint(boxes)"),
                   "[]"}}});

    t.push_back({"mK4v9TzR", "documents", {R1, R2}, "How much did I spend in total across these two receipts?",
                 {{"I need the total of each receipt. I will read the first receipt with the `visualizer` tool.",
                   "total_1 = visualizer(question=\"What is the total on this receipt?\", image_path=\"" + att(R1) +
                       "\")\nprint(total_1)",
                   "The TOTAL on the CAFE LUNA receipt is 11.34 (subtotal 10.50 plus tax 0.84)."},
                  {"The first receipt totals 11.34. Now I will read the second receipt.",
                   "total_2 = visualizer(question=\"What is the total on this receipt?\", image_path=\"" + att(R2) +
                       "\")\nprint(total_2)",
                   "The GREEN MARKET receipt lists Apples 1kg 3.40, Bread 2.10, Milk 2L 1.90 and Eggs x12 3.60, "
                   "with a TOTAL of 11.00."},
                  {"I will add the two totals.", "combined = 11.34 + 11.00\nprint(round(combined, 2))", "22.34"},
                  {"The two receipts add up to 22.34.", "final_answer(\"22.34\")", ""}},
                 "22.34", "yes",
                 verification("Both receipt totals (11.34 and 11.00) were read correctly and summed to 22.34.",
                              "yes"),
                 {{2, action("I will add the two totals.", "combined = 11.34 + 10.50\nprint(combined)"), "21.84"},
                  {1, action("The second receipt is probably similar to the first, so I will assume 11.34.",
                             "total_2 = 11.34\nprint(total_2)"),
                   "11.34"}}});

    t.push_back({"ch8Ws1Pe", "documents", {"chart_sales.png"},
                 "Which quarter had the highest sales in this chart, and by how many units did it exceed the lowest "
                 "quarter?",
                 {{"I will ask the `visualizer` tool for the value of every bar in the chart.",
                   "values = visualizer(question=\"What are the sales values for each quarter in this bar chart?\", "
                   "image_path=\"" + att("chart_sales.png") + "\")\nprint(values)",
                   "The bar chart 'Quarterly sales 2023 (units)' shows Q1: 120, Q2: 150, Q3: 90 and Q4: 180 units."},
                  {"Now I will find the highest and lowest quarters and their difference.",
                   "sales = {\"Q1\": 120, \"Q2\": 150, \"Q3\": 90, \"Q4\": 180}\nbest = max(sales, key=sales.get)\n"
                   "worst = min(sales, key=sales.get)\nprint(best, worst, sales[best] - sales[worst])",
                   "Q4 Q3 90"},
                  {"Q4 is the highest quarter and exceeds Q3, the lowest, by 90 units.",
                   "final_answer(\"Q4, exceeding the lowest quarter (Q3) by 90 units\")", ""}},
                 "Q4, exceeding the lowest quarter (Q3) by 90 units", "yes",
                 verification("The values read from the chart are right and the difference 180 - 90 = 90 is "
                              "correct.", "yes"),
                 {{0, action("I will search the web for the quarterly sales.",
                             "result = ask_search_agent(query=\"What were the quarterly sales in 2023?\")\n"
                             "print(result)"),
                   "I could not find a single answer: quarterly sales figures for 2023 depend on the company."},
                  {0, "Thought: The tallest bar is Q4, so Q4 had the highest sales. It exceeds Q1 by 60 units.",
                   "Error in code parsing: no code block"},
                  {1, action("Now I will compute the difference.",
                             "print(\"Q4\", 180 - 120)"),
                   "Q4 60"}}});

    t.push_back({"bd3Nc7Yq", "documents", {"chart_budget.png"},
                 "My monthly income is $3,000. Using the budget pie chart, how much do I put into savings each month?",
                 {{"I will read the share of each category from the pie chart with the `visualizer` tool.",
                   "shares = visualizer(question=\"What percentage does each category have in this pie chart?\", "
                   "image_path=\"" + att("chart_budget.png") + "\")\nprint(shares)",
                   "The 'Monthly budget' pie chart shows Rent 40%, Food 25%, Transport 15% and Savings 20%."},
                  {"Savings is 20% of the income. I will compute 20% of 3000.",
                   "savings = 3000 * 0.20\nprint(savings)", "600.0"},
                  {"20% of $3,000 is $600.", "final_answer(\"$600\")", ""}},
                 "$600", "yes",
                 verification("The savings share of 20% was read correctly from the chart; 20% of 3000 is 600.",
                              "yes"),
                 {{1, action("Savings look like a quarter of the pie.", "savings = 3000 * 0.25\nprint(savings)"),
                   "750.0"},
                  {1, action("I will compute the savings.", "savings = 3000 * 20\nprint(savings)"), "60000"}}});

    t.push_back({"tp5Hs0Vb", "documents", {"chart_temperature.png"},
                 "What is the average daily high temperature over the week shown in this chart?",
                 {{"I will read the seven daily values from the line chart.",
                   "temps = visualizer(question=\"What is the temperature for each day in this line chart?\", "
                   "image_path=\"" + att("chart_temperature.png") + "\")\nprint(temps)",
                   "The chart 'Daily high temperature (\u00b0C)' shows Mon 18, Tue 21, Wed 19, Thu 23, Fri 25, "
                   "Sat 22, Sun 20."},
                  {"I will compute the mean of the seven values.",
                   "import statistics\nvalues = [18, 21, 19, 23, 25, 22, 20]\nprint(statistics.mean(values))",
                   "21.142857142857142"},
                  {"The weekly average is about 21.1 \u00b0C.", "final_answer(\"21.1 \u00b0C\")", ""}},
                 "21.1 \u00b0C", "yes",
                 verification("The agent read all seven values and averaged them correctly (148 / 7 = 21.14).",
                              "yes"),
                 {{1, action("I will average the hottest and coldest days.", "print((18 + 25) / 2)"), "21.5"}}});

    t.push_back({"sh2Rc6Ku", "scenes", {"shapes.png"}, "How many red circles are in the image?",
                 {{"I will use `objectlocation` to find all red circles in the image.",
                   "boxes = objectlocation(object=\"red circle\", image_path=\"" + att("shapes.png") +
                       "\")\nprint(boxes)",
                   boxesText(circles)},
                  {"I will count the bounding boxes.", "print(len(boxes))", std::to_string(circles.size())},
                  {"There are 5 red circles.", "final_answer(5)", ""}},
                 "5", "yes",
                 verification("The detector found 5 red circles, which matches the image.", "yes"),
                 {{0, action("I will detect the circles as faces.",
                             "boxes = facedetection(image_path=\"" + att("shapes.png") + "\")\nprint(boxes)"),
                   "[]"},
                  {0, action("I will locate the circles.",
                             "boxes = objectlocation(object=\"red circle\", image_path=\"shapes.jpg\")\nprint(boxes)"),
                   "FileNotFoundError: [Errno 2] No such file or directory: 'shapes.jpg'"},
                  {1, action("I will count the shapes.", "print(len(boxes) + 3)"), "8"}}});

    t.push_back({"hl9Bq3Zd", "scenes", {"shapes.png"},
                 "Highlight the blue squares in this image with a yellow outline and tell me how many there are.",
                 {{"First I will locate the blue squares with `objectlocation`.",
                   "squares = objectlocation(object=\"blue square\", image_path=\"" + att("shapes.png") +
                       "\")\nprint(squares)",
                   boxesText(squares)},
                  {"There are 3 blue squares. I will ask `image_edit` to outline them in yellow.",
                   "edited = image_edit(prompt=\"Draw a thick yellow outline around each blue square at " +
                       boxesText(squares) + "\", image_path=\"" + att("shapes.png") + "\")\nprint(edited)",
                   img("edited/shapes_squares_highlighted.png")},
                  {"The squares are highlighted; I will report the count and the edited image.",
                   "final_answer(\"There are 3 blue squares; the highlighted image is " +
                       img("edited/shapes_squares_highlighted.png") + "\")",
                   ""}},
                 "There are 3 blue squares; the highlighted image is " + img("edited/shapes_squares_highlighted.png"),
                 "yes",
                 verification("The agent located the 3 blue squares and edited the image as asked.", "yes"),
                 {{1, action("I will generate a new picture with highlighted squares.",
                             "path = image_generator(prompt=\"three blue squares with yellow outlines\")\nprint(path)"),
                   img("generated/squares_0193.png")}}});

    t.push_back({"fc6Tn8Jw", "scenes", {"group_photo.png"}, "How many people are in this photo?",
                 {{"I will detect the faces in the photo with `facedetection`.",
                   "faces = facedetection(image_path=\"" + att("group_photo.png") + "\")\nprint(faces)",
                   boxesText(faces)},
                  {"Four faces were detected, so there are 4 people.", "final_answer(4)", ""}},
                 "4", "yes", verification("Four faces were detected, matching the four people in the image.", "yes"),
                 {{0, action("I will ask the search agent.",
                             "print(ask_search_agent(query=\"How many people are in a typical group photo?\"))"),
                   "Group photos usually have between 3 and 10 people."},
                  {1, action("Four faces were detected.", "final_answer(5)"), "5"}}});

    t.push_back({"st1Gx4Mo", "scenes", {"street_signs.png"}, "Which two streets meet at this corner?",
                 {{"I will read the street signs with the `visualizer` tool.",
                   "signs = visualizer(question=\"What do the street signs say?\", image_path=\"" +
                       att("street_signs.png") + "\")\nprint(signs)",
                   "There are two green street signs on the pole. The upper one reads 'MAIN ST' and the lower one "
                   "reads '5TH AVE'."},
                  {"The corner is where Main St meets 5th Ave.", "final_answer(\"Main St and 5th Ave\")", ""}},
                 "Main St and 5th Ave", "yes", verification("Both sign texts were read correctly.", "yes"),
                 {{1, action("The signs name the streets.", "final_answer(\"Main St and Broadway\")"),
                   "Main St and Broadway"}}});

    t.push_back({"pk7Lr2Ea", "scenes", {"parking_sign.png"}, "Can I park here on Saturday at 10am?",
                 {{"I will read the parking sign with the `visualizer` tool.",
                   "rules = visualizer(question=\"What does this parking sign say?\", image_path=\"" +
                       att("parking_sign.png") + "\")\nprint(rules)",
                   "The sign reads 'NO PARKING 8AM - 6PM MON - FRI' in red letters on a white background."},
                  {"The restriction applies Monday to Friday only, so parking on Saturday at 10am is allowed.",
                   "final_answer(\"Yes. The sign forbids parking only Monday to Friday, 8 AM to 6 PM.\")", ""}},
                 "Yes. The sign forbids parking only Monday to Friday, 8 AM to 6 PM.", "yes",
                 verification("The sign text was read correctly and the reasoning about Saturday is right.", "yes"),
                 {{1, action("It is a no-parking sign.", "final_answer(\"No, parking is not allowed here.\")"),
                   "No, parking is not allowed here."}}});

    t.push_back({"mn4Dq9Sc", "documents", {"menu_board.png"}, "How much would two burgers and a soda cost?",
                 {{"I will read the prices from the menu board with the `visualizer` tool.",
                   "menu = visualizer(question=\"What items and prices are on this menu?\", image_path=\"" +
                       att("menu_board.png") + "\")\nprint(menu)",
                   "JOE'S DINER menu: BURGER 8.50, FRIES 3.00, SODA 2.25, SALAD 6.75."},
                  {"Two burgers at 8.50 and one soda at 2.25.", "cost = 2 * 8.50 + 2.25\nprint(cost)", "19.25"},
                  {"The order costs 19.25.", "final_answer(\"$19.25\")", ""}},
                 "$19.25", "yes", verification("Prices read correctly; 2 x 8.50 + 2.25 = 19.25.", "yes"),
                 {{1, action("Two burgers and a soda.", "cost = 8.50 + 2.25\nprint(cost)"), "10.75"},
                  {1, action("Burgers usually cost about 10 dollars.", "cost = 2 * 10 + 2.25\nprint(cost)"),
                   "22.25"}}});

    {
        std::vector<Box> seen(apples.begin(), apples.end() - 1);  // the detector misses the back-right apple
        t.push_back({"fr0Yb5Hn", "scenes", {"fruit_bowl.png"}, "How many apples are in the bowl?",
                     {{"I will locate the apples with `objectlocation`.",
                       "apples = objectlocation(object=\"apple\", image_path=\"" + att("fruit_bowl.png") +
                           "\")\nprint(apples)",
                       boxesText(seen)},
                      {"I will count the detected apples.", "print(len(apples))", std::to_string(seen.size())},
                      {"There are 6 apples in the bowl.", "final_answer(6)", ""}},
                     "6", "no",
                     verification("The image shows 7 apples (two in the back row); the detector missed one, so the "
                                  "answer 6 conflicts with the image content.", "no"),
                     {{2, action("The detector may miss overlapping apples; I will check with the visualizer.",
                                 "print(visualizer(question=\"How many apples are in the bowl?\", image_path=\"" +
                                     att("fruit_bowl.png") + "\"))"),
                       "There are 7 red apples in the bowl: five in the front row and two behind them."}}});
    }

    t.push_back({"iv2Kp7Wf", "documents", {"invoice.png"}, "When is this invoice due and what is the total due?",
                 {{"I will read the invoice file as text.",
                   "text = inspect_file_as_text(file_path=\"" + att("invoice.png") +
                       "\", question=\"What is the due date and total due?\")\nprint(text)",
                   conversation::execution_error("UnsupportedFormatException: Could not convert '" + att("invoice.png") +
                                         "' to Markdown. The formats ['.png'] are not supported."),
                   true},
                  {"`inspect_file_as_text` does not handle images. I will use the `visualizer` tool instead.",
                   "info = visualizer(question=\"What is the due date and the total due on this invoice?\", "
                   "image_path=\"" + att("invoice.png") + "\")\nprint(info)",
                   "INVOICE #4471 from Northwind Supplies Ltd. Due date: 2024-04-30. 3 x Widget A @ 12.00 = 36.00, "
                   "2 x Widget B @ 7.50 = 15.00, Subtotal 51.00, VAT 20% 10.20, TOTAL DUE 61.20."},
                  {"The invoice is due on 2024-04-30 with a total of 61.20.",
                   "final_answer(\"Due 2024-04-30; total due 61.20\")", ""}},
                 "Due 2024-04-30; total due 61.20", "yes",
                 verification("After an error with the wrong tool the agent read the date and total correctly.",
                              "yes"),
                 {{0, action("I will read the invoice with the visualizer.",
                             "info = visualizer(question=\"What is the due date and the total due on this invoice?\", "
                             "image_path=\"" + att("invoice.png") + "\")\nprint(info)"),
                   "INVOICE #4471 ... Due date: 2024-04-30 ... TOTAL DUE 61.20."}}});

    t.push_back({"mk5Vt1Jr", "scenes", {"street_market.jpg"},
                 "What fruit is the vendor at the middle stall selling?",
                 {{"I will ask the `visualizer` tool about the middle stall.",
                   "fruit = visualizer(question=\"What fruit is sold at the middle stall?\", image_path=\"" +
                       att("street_market.jpg") + "\")\nprint(fruit)",
                   "The middle stall has crates piled high with oranges; a hand-written sign above them reads "
                   "'2 for 1'."},
                  {"The middle stall sells oranges.", "final_answer(\"Oranges\")", ""}},
                 "Oranges", "unknown",
                 verification("The image could not be checked, so the verdict is unknown.", "unknown"),
                 {}});

    t.push_back({"rn8Cz3Xa", "documents", {},
                 "I ran 5 km on Monday, 7.5 km on Wednesday and 10 km on Saturday. What is my weekly total, and my "
                 "average per day over the 7-day week?",
                 {{"I will add the distances and divide by 7.",
                   "total = 5 + 7.5 + 10\naverage = total / 7\nprint(\"Total:\", total, \"Average:\", round(average, 2))",
                   "Total: 22.5 Average: 3.21"},
                  {"The total is 22.5 km and the daily average is 3.21 km.",
                   "final_answer(\"Total 22.5 km; average 3.21 km per day\")", ""}},
                 "Total 22.5 km; average 3.21 km per day", "yes",
                 verification("The arithmetic is correct.", "yes"),
                 {{0, action("I will average over the three running days.",
                             "print((5 + 7.5 + 10) / 3)"),
                   "7.5"}}});

    t.push_back({"bp3Ue6Ks", "documents", {},
                 "What is the boiling point of water at sea level in Fahrenheit, and what is it in Kelvin?",
                 {{"I will ask the search agent for the boiling point of water at sea level.",
                   "info = ask_search_agent(query=\"What is the boiling point of water at sea level in Celsius and "
                   "Fahrenheit?\")\nprint(info)",
                   "At sea level (1 atm) water boils at 100 \u00b0C, which is 212 \u00b0F."},
                  {"I will convert 100 \u00b0C to Kelvin.", "print(100 + 273.15)", "373.15"},
                  {"Water boils at 212 \u00b0F, which is 373.15 K.",
                   "final_answer(\"212 \u00b0F, or 373.15 K\")", ""}},
                 "212 \u00b0F, or 373.15 K", "yes", verification("Both values are correct.", "yes"),
                 {{1, action("I will convert to Kelvin.", "print(212 + 273.15)"), "485.15"}}});

    t.push_back({"ck4Wm0Gt", "scenes", {"wall_clock.png"},
                 "What time does this clock show, and how many minutes are left until 4 o'clock?",
                 {{"Thought: The clock seems to show a quarter past three, so 45 minutes are left.", "", kParseError,
                   true, true},
                  {"I must use a code block. I will read the clock with the `visualizer` tool.",
                   "time_shown = visualizer(question=\"What time does this clock show?\", image_path=\"" +
                       att("wall_clock.png") + "\")\nprint(time_shown)",
                   "The analog wall clock shows 3:15: the minute hand points at 3 and the hour hand is just past 3."},
                  {"From 3:15 to 4:00 there are 45 minutes.", "print(60 - 15)", "45"},
                  {"The clock shows 3:15 and 45 minutes remain until 4:00.",
                   "final_answer(\"3:15; 45 minutes until 4 o'clock\")", ""}},
                 "3:15; 45 minutes until 4 o'clock", "yes",
                 verification("After a format error the agent read the time correctly and computed 45 minutes.",
                              "yes"),
                 {{1, action("I will ask about the clock.",
                             "print(visualizer(question=\"What time is it now?\", image_path=\"clock.png\"))"),
                   "FileNotFoundError: [Errno 2] No such file or directory: 'clock.png'"}}});

    t.push_back({"pl6Ay2Qv", "scenes", {"parking_lot.png"},
                 "How many cars are parked, and how many of the 6 spots are still free? Also give me a segmentation "
                 "mask of the cars.",
                 {{"I will locate the cars with `objectlocation`.",
                   "cars = objectlocation(object=\"car\", image_path=\"" + att("parking_lot.png") + "\")\nprint(cars)",
                   boxesText(cars)},
                  {"Four cars were found. I will segment them using their boxes.",
                   "mask = segmentation(image_path=\"" + att("parking_lot.png") + "\", prompt=cars)\nprint(mask)",
                   img("edited/parking_lot_mask.png")},
                  {"4 cars occupy 4 of the 6 spots, leaving 2 free.",
                   "final_answer(\"4 cars are parked and 2 spots are free; mask: " + img("edited/parking_lot_mask.png") +
                       "\")",
                   ""}},
                 "4 cars are parked and 2 spots are free; mask: " + img("edited/parking_lot_mask.png"), "yes",
                 verification("Four cars and two free spots match the image; the mask was produced.", "yes"),
                 {{1, action("Four cars were found.", "final_answer(\"4 cars, 2 free spots\")"),
                   "4 cars, 2 free spots"}}});

    t.push_back({"kt9Ho4Fe", "scenes", {},
                 "Generate an image of a red kite flying over a green hill and give me the file path.",
                 {{"I will use `image_generator` with a descriptive prompt.",
                   "path = image_generator(prompt=\"A red diamond-shaped kite flying in a clear blue sky over a "
                   "green hill, simple flat illustration\")\nprint(path)",
                   img("generated/red_kite.png")},
                  {"The image was generated.", "final_answer(\"" + img("generated/red_kite.png") + "\")", ""}},
                 img("generated/red_kite.png"), "yes", verification("The image was generated as requested.", "yes"),
                 {}});

    t.push_back({"sc1Jd8Np", "documents", {"score_table.png"},
                 "Who scored highest on the math test, and what is the class average?",
                 {{"I will read the table with the `visualizer` tool.",
                   "table = visualizer(question=\"List every student and score in this table.\", image_path=\"" +
                       att("score_table.png") + "\")\nprint(table)",
                   "Math test scores: Ana 88, Ben 92, Chen 79, Dara 95."},
                  {"I will find the top scorer and the average.",
                   "scores = {\"Ana\": 88, \"Ben\": 92, \"Chen\": 79, \"Dara\": 95}\n"
                   "top = max(scores, key=scores.get)\nprint(top, sum(scores.values()) / len(scores))",
                   "Dara 88.5"},
                  {"Dara scored highest; the average is 88.5.",
                   "final_answer(\"Dara (95); class average 88.5\")", ""}},
                 "Dara (95); class average 88.5", "yes", verification("Correct top scorer and average.", "yes"),
                 {{1, action("I will compute the average of the scores.",
                             "scores = [88, 92, 79, 95]\nprint(max(scores), sum(scores) / 3)"),
                   "95 118.0"},
                  {2, action("The top scorer is Ben.", "final_answer(\"Ben (92); class average 88.5\")"),
                   "Ben (92); class average 88.5"}}});
    return t;
}

}  // namespace demo
